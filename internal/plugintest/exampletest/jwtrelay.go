package exampletest

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// relayTarget is the receiver of jwt-relay: it verifies each token with
// pub and sends the claims (or the failure) on the returned channel.
func relayTarget(t *testing.T, pub any, status int) (*httptest.Server, <-chan jwt.MapClaims) {
	t.Helper()
	got := make(chan jwt.MapClaims, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			JWT string `json:"jwt"`
		}
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
			t.Errorf("request %s %s %q", r.Method, r.Header.Get("Content-Type"), b)
		}
		tok, err := jwt.Parse(body.JWT, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("hookd-test"), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
		if err != nil {
			t.Errorf("token %q does not verify: %v", body.JWT, err)
			got <- nil
		} else {
			got <- tok.Claims.(jwt.MapClaims)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// relayGrants grants relay.pem and HTTP to allow (on loopback).
func relayGrants(t *testing.T, key *jwtsign.Key, cfg string, allow ...string) hostfn.Grants {
	t.Helper()
	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	// A test-sized HTTP timeout, as plugintest gives the call: the loopback
	// receiver answers at once, but a loaded machine may not run it at once.
	h, err := hostfn.NewHTTP(hostfn.HTTPOptions{Allow: allow, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Timeout: plugintest.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return hostfn.Grants{Config: json.RawMessage(cfg), Sign: sign, Keys: names, HTTP: h}
}

func relayConfig(key, url string) string {
	b, _ := json.Marshal(map[string]string{"key": key, "url": url, "issuer": "hookd-test"})
	return string(b)
}

// testJWTRelay: the event reaches the receiver as a token it verifies,
// with the event in its claims; without SESSIONID, the claim is left out.
func testJWTRelay(t *testing.T, p Plugins) {
	key := plugintest.SigningKey(t, "relay.pem")
	srv, got := relayTarget(t, key.Public(), http.StatusNoContent)
	relay := p.load(t, p.JWTRelay, relayGrants(t, key, relayConfig("relay.pem", srv.URL+"/hook"), srv.URL))

	ev := plugintest.Event(map[string]string{"special": "<&\"ü>\n😀"})
	out, err := relay.Call(context.Background(), ev)
	if err != nil || out.Status != 0 || out.Reply != nil {
		t.Fatalf("status %d err %v (%s) reply %q; logs %v", out.Status, err, out.Error, out.Reply, out.Logs)
	}
	c := <-got
	if c == nil {
		t.FailNow()
	}
	data, _ := c["data"].(map[string]any)
	fields := make(map[string]string, len(data))
	for k, v := range data {
		fields[k], _ = v.(string)
	}
	if c["event"] != "NEWSESSION" || c["domain_id"] != "acme" || c["session_id"] != "5a1b" || c["jti"] != ev.ID || !maps.Equal(fields, ev.Fields) {
		t.Errorf("claims %v, want the event's", c)
	}

	delete(ev.Fields, "SESSIONID")
	if out, err := relay.Call(context.Background(), ev); err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
	}
	if c := <-got; c == nil || c["session_id"] != nil {
		t.Errorf("claims %v, want no session_id", c)
	}
}

// testJWTRelayFailures: what no retry can fix fails for good, a receiver
// that fails is retried, each saying why.
func testJWTRelayFailures(t *testing.T, p Plugins) {
	key := plugintest.SigningKey(t, "relay.pem")
	broken, _ := relayTarget(t, key.Public(), http.StatusInternalServerError)
	ok, _ := relayTarget(t, key.Public(), http.StatusOK)
	allow := []string{broken.URL, ok.URL}

	for _, tc := range []struct {
		name   string
		cfg    string
		event  map[string]string
		status int32
		msg    string
	}{
		{"receiver fails", relayConfig("relay.pem", broken.URL+"/hook"), nil, 1, "jwt-relay: POST " + broken.URL + "/hook: HTTP 500: Internal Server Error"},
		{"URL not allowed", relayConfig("relay.pem", "http://127.0.0.1:1/hook"), nil, 2, "jwt-relay: POST http://127.0.0.1:1/hook: pdk: http_request: ERR_DENIED"},
		{"key not granted", relayConfig("other.pem", ok.URL), nil, 2, "jwt-relay: signing with key other.pem: pdk: jwt_sign: ERR_DENIED"},
		{"event too large to relay", relayConfig("relay.pem", ok.URL), map[string]string{"big": strings.Repeat("x", 60<<10)}, 2, "jwt-relay: POST " + ok.URL + ": pdk: http_request: ERR_TOO_LARGE"},
		{"config incomplete", `{"url": "` + ok.URL + `"}`, nil, 2, `jwt-relay: invalid config: "key", "issuer" missing`},
		{"not an http URL", relayConfig("relay.pem", "ftp://x"), nil, 2, `jwt-relay: invalid config: url "ftp://x" is not an http(s) URL`},
		{"unknown key", `{"key": "relay.pem", "url": "` + ok.URL + `", "issuer": "i", "isuer": "x"}`, nil, 2, `jwt-relay: invalid config: pdk: config: unknown field "isuer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := p.load(t, p.JWTRelay, relayGrants(t, key, tc.cfg, allow...))
			out, err := relay.Call(context.Background(), plugintest.Event(tc.event))
			if err != nil || out.Status != tc.status || !strings.HasPrefix(out.Error, tc.msg) {
				t.Errorf("status %d err %v error %q, want %d %q…", out.Status, err, out.Error, tc.status, tc.msg)
			}
		})
	}
}

// testJWTRelayDeadline: with less than 10 ms left in the call, the relay
// does not start the request and asks for a retry. The call gets a 5 ms
// deadline: either the guest runs and sees under 10 ms left (status 1), or
// a busy machine runs it past the deadline (an error); it never relays.
func testJWTRelayDeadline(t *testing.T, p Plugins) {
	key := plugintest.SigningKey(t, "relay.pem")
	srv, got := relayTarget(t, key.Public(), http.StatusOK)
	relay := plugintest.Load(t, p.Build(t, p.JWTRelay), wasmhost.Limits{Instances: 1, Timeout: 5 * time.Millisecond},
		relayGrants(t, key, relayConfig("relay.pem", srv.URL), srv.URL))
	seen := false
	for range 5 {
		out, err := relay.Call(context.Background(), plugintest.Event(nil))
		if err != nil {
			continue // stopped at its deadline before it could answer
		}
		// The time left, in whole milliseconds as the host counts them:
		// "4ms" (Go prints none left as "0s", AssemblyScript as "0ms").
		left, ok := strings.CutPrefix(out.Error, "jwt-relay: only ")
		left, ok2 := strings.CutSuffix(left, " left in the call; not starting the request")
		d, err := time.ParseDuration(left)
		if out.Status != 1 || !ok || !ok2 || err != nil || d < 0 || d >= 10*time.Millisecond || d%time.Millisecond != 0 {
			t.Fatalf("status %d error %q, want 1 and the time left, under 10 ms", out.Status, out.Error)
		}
		seen = true
		break
	}
	select {
	case c := <-got:
		t.Errorf("the relay posted a token with under 10 ms left: %v", c)
	default:
	}
	if !seen {
		t.Log("every call overran its 5 ms deadline on this machine; the relay's check was not reached")
	}
}

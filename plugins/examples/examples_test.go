package examples_test

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

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// The examples are built with the Go toolchain (GOOS=wasip1) and run in
// hookd's engine, as hookd would run them.

func TestMain(m *testing.M) { plugintest.Main(m) }

const (
	sessionGuard = "github.com/hookrt/hookd/plugins/examples/session-guard"
	jwtRelay     = "github.com/hookrt/hookd/plugins/examples/jwt-relay"
)

func load(t *testing.T, pkg string, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.Build(t, pkg), wasmhost.Limits{Instances: 1}, g)
}

func hasLog(out wasmhost.Outcome, level int32, text string) bool {
	for _, l := range out.Logs {
		if l.Level == level && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

func TestSessionGuard(t *testing.T) {
	t.Parallel()
	p := load(t, sessionGuard, hostfn.Grants{Config: json.RawMessage(`{"block": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"], "secret": "s3cret"}`)})
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		fields map[string]string // over plugintest.Event; "-" deletes
		drop   string            // the session dropped, or "" for <nomessage/>
		log    string            // a line the call logs
	}{
		{"blocked reasonAddress", map[string]string{"reasonAddress": "10.1.2.3"}, "5a1b", "dropping session 5a1b: client 10.1.2.3 (reasonAddress) is in blocked 10.0.0.0/8"},
		{"NEW SESSION spelling", map[string]string{"EVENT": "NEW SESSION", "reasonAddress": "192.0.2.77"}, "5a1b", "is in blocked 192.0.2.0/24"},
		{"allowed address", map[string]string{"reasonAddress": "203.0.113.42"}, "", ""},
		{"edge of a blocked prefix", map[string]string{"reasonAddress": "192.0.3.0"}, "", ""},
		{"blocked clientAddress with port", map[string]string{"reasonAddress": "-", "clientAddress": "192.0.2.9:5000"}, "5a1b", "(clientAddress)"},
		{"blocked CLIENT_ADDR, IPv4-mapped", map[string]string{"CLIENT_ADDR": "[::ffff:10.0.0.1]:80"}, "5a1b", "client 10.0.0.1 (CLIENT_ADDR)"},
		{"blocked IPv6", map[string]string{"reasonAddress": "2001:db8::7"}, "5a1b", "2001:db8::/32"},
		{"another event", map[string]string{"EVENT": "STOP", "reasonAddress": "10.1.2.3"}, "", ""},
		{"not an address", map[string]string{"reasonAddress": "desk.example.com"}, "", `reasonAddress "desk.example.com" is not an IP address`},
		{"no session to drop", map[string]string{"reasonAddress": "10.1.2.3", "SESSIONID": "-"}, "", "no SESSIONID to drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := plugintest.Event(nil)
			for k, v := range tc.fields {
				if v == "-" {
					delete(ev.Fields, k)
				} else {
					ev.Fields[k] = v
				}
			}
			out, err := p.Call(ctx, ev)
			if err != nil || out.Status != 0 {
				t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
			}
			if tc.log != "" && !hasLog(out, hostapi.LevelInfo, tc.log) && !hasLog(out, hostapi.LevelWarn, tc.log) {
				t.Errorf("no log line with %q: %v", tc.log, out.Logs)
			}
			if tc.drop == "" {
				if out.Reply != nil {
					t.Errorf("reply %s, want <nomessage/>", out.Reply)
				}
				return
			}
			r, err := xmlmsg.Parse(out.Reply)
			if err != nil {
				t.Fatalf("reply %s: %v", out.Reply, err)
			}
			want := xmlmsg.Command{Session: tc.drop, Kind: xmlmsg.KindDrop}
			if r.Secret != "s3cret" || len(r.Commands) != 1 || r.Commands[0] != want {
				t.Errorf("reply %s, want a drop of %s with the secret", out.Reply, tc.drop)
			}
		})
	}
}

func TestSessionGuardInvalidConfig(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[string]string{
		`{"block": ["10.0.0.0/33"], "secret": "s"}`:  `session-guard: invalid config: block[0] "10.0.0.0/33" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7`,
		`{"block": ["10.0.0.1/8"], "secret": "s"}`:   `session-guard: invalid config: block[0] "10.0.0.1/8" is not a CIDR prefix`,
		`{"block": "10.0.0.0/8", "secret": "s"}`:     "session-guard: invalid config: pdk: config: block: cannot use a string as []string",
		`{"blocked": ["10.0.0.0/8"], "secret": "s"}`: `session-guard: invalid config: pdk: config: unknown field "blocked"`,
		`{"block": ["10.0.0.0/8"]}`:                  `session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`,
	} {
		p := load(t, sessionGuard, hostfn.Grants{Config: json.RawMessage(cfg)})
		for range 2 { // the error is kept, and stays permanent
			out, err := p.Call(context.Background(), plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"}))
			if err != nil || out.Status != 2 || !strings.HasPrefix(out.Error, want) || out.Reply != nil {
				t.Errorf("config %s: status %d err %v error %q, want 2 %q", cfg, out.Status, err, out.Error, want)
			}
		}
	}
}

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

func TestJWTRelay(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	srv, got := relayTarget(t, key.Public(), http.StatusNoContent)
	p := load(t, jwtRelay, relayGrants(t, key, relayConfig("relay.pem", srv.URL+"/hook"), srv.URL))

	ev := plugintest.Event(map[string]string{"special": "<&\"ü>"})
	out, err := p.Call(context.Background(), ev)
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
}

func TestJWTRelayFailures(t *testing.T) {
	t.Parallel()
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, jwtRelay, relayGrants(t, key, tc.cfg, allow...))
			out, err := p.Call(context.Background(), plugintest.Event(tc.event))
			if err != nil || out.Status != tc.status || !strings.HasPrefix(out.Error, tc.msg) {
				t.Errorf("status %d err %v error %q, want %d %q…", out.Status, err, out.Error, tc.status, tc.msg)
			}
		})
	}
}

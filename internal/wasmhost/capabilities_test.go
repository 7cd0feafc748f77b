package wasmhost

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
)

// target is a loopback HTTP server for plugin requests.
func target(t *testing.T, addr string) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "accepted")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv
}

// httpGrants allows the given origins and loopback 127.0.0.1 (or the given
// private prefixes).
func httpGrants(t *testing.T, o hostfn.HTTPOptions, request string) hostfn.Grants {
	t.Helper()
	if o.AllowPrivate == nil {
		o.AllowPrivate = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	h, err := hostfn.NewHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return hostfn.Grants{Config: json.RawMessage(request), HTTP: h}
}

func urlReq(url string) string { return `{"url":"` + url + `"}` }

func TestPluginHTTP(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	srv := target(t, "")
	denied := target(t, "")
	allow := []string{srv.URL}
	ctx := context.Background()

	for _, tc := range []struct {
		name  string
		url   string
		reply string
	}{
		{"allowed origin", srv.URL + "/ok", "202"},
		{"other port", denied.URL + "/ok", "E5"},
		{"other host", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ok", "E5"},
		{"other scheme", strings.Replace(srv.URL, "http:", "https:", 1) + "/ok", "E5"},
		{"redirect within the origin", srv.URL + "/redirect?to=/ok", "202"},
		{"redirect to an origin not allowed", srv.URL + "/redirect?to=" + denied.URL + "/ok", "E5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := load(t, e, "http", Limits{}, httpGrants(t, hostfn.HTTPOptions{Allow: allow}, urlReq(tc.url)))
			out, err := p.Call(ctx, event("x"))
			if err != nil || string(out.Reply) != tc.reply {
				t.Errorf("reply %q err %v, want %q; logs %v", out.Reply, err, tc.reply, out.Logs)
			}
		})
	}

	t.Run("not granted", func(t *testing.T) {
		t.Parallel()
		p := load(t, e, "http", Limits{}, hostfn.Grants{Config: json.RawMessage(urlReq(srv.URL + "/ok"))})
		if out, err := p.Call(ctx, event("x")); err != nil || string(out.Reply) != "E5" {
			t.Errorf("reply %q err %v, want E5", out.Reply, err)
		}
	})

	t.Run("redirect to loopback not allowed", func(t *testing.T) {
		t.Parallel()
		// The plugin may reach 127.0.0.2 (allow_private) but not 127.0.0.1,
		// even though both origins are on its allow-list.
		front := target(t, "127.0.0.2:0")
		g := httpGrants(t, hostfn.HTTPOptions{
			Allow:        []string{front.URL, srv.URL},
			AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		}, urlReq(front.URL+"/redirect?to="+srv.URL+"/ok"))
		p := load(t, e, "http", Limits{}, g)
		out, err := p.Call(ctx, event("x"))
		if err != nil || string(out.Reply) != "E5" {
			t.Errorf("reply %q err %v, want E5", out.Reply, err)
		}
		if !strings.Contains(fmt.Sprint(out.Logs), "loopback") {
			t.Errorf("refusal not explained: %v", out.Logs)
		}
		g.Config = json.RawMessage(urlReq(front.URL + "/ok"))
		p2 := load(t, e, "http", Limits{}, g)
		if out, err := p2.Call(ctx, event("x")); err != nil || string(out.Reply) != "202" {
			t.Errorf("direct to 127.0.0.2: reply %q err %v; logs %v", out.Reply, err, out.Logs)
		}
	})

	t.Run("slow target times out within the deadline", func(t *testing.T) {
		t.Parallel()
		// The call's deadline is testTimeout: an E7 reply (not ErrDeadline)
		// shows the request's 100ms timeout ended it.
		g := httpGrants(t, hostfn.HTTPOptions{Allow: allow, Timeout: 100 * time.Millisecond}, urlReq(srv.URL+"/slow"))
		p := load(t, e, "http", Limits{}, g)
		out, err := p.Call(ctx, event("x"))
		if err != nil || string(out.Reply) != "E7" {
			t.Errorf("reply %q err %v, want E7", out.Reply, err)
		}
	})

	t.Run("slow target past the call deadline", func(t *testing.T) {
		t.Parallel()
		g := httpGrants(t, hostfn.HTTPOptions{Allow: allow, Timeout: time.Minute}, urlReq(srv.URL+"/slow"))
		p := load(t, e, "http", Limits{Timeout: 100 * time.Millisecond}, g)
		var err error
		stops(t, "a request past the call's 100ms deadline", func() { _, err = p.Call(ctx, event("x")) })
		if !errors.Is(err, ErrDeadline) {
			t.Errorf("err %v, want ErrDeadline", err)
		}
	})

	t.Run("request cap", func(t *testing.T) {
		t.Parallel()
		p := load(t, e, "manyhttp", Limits{}, httpGrants(t, hostfn.HTTPOptions{Allow: allow}, urlReq(srv.URL+"/ok")))
		for range 2 { // per call, not per instance
			out, err := p.Call(ctx, event("x"))
			if err != nil || string(out.Reply) != "OOOO666666" {
				t.Errorf("reply %q err %v, want OOOO666666", out.Reply, err)
			}
		}
	})
}

func TestPluginJWT(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwtsign.NewKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sign, names := KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	e := newEngine(t)
	ev := event("x")

	p := load(t, e, "sign", Limits{}, hostfn.Grants{Config: json.RawMessage(`{"key":"relay.pem"}`), Sign: sign, Keys: names})
	before := time.Now().Unix()
	out, err := p.Call(context.Background(), ev)
	if err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s); logs %v", out.Status, err, out.Error, out.Logs)
	}
	if hc := out.HostCalls; len(hc) < 2 || hc[1].Name != hostapi.FuncJWTSign || hc[1].Status != int64(hostapi.ErrBadArgument) {
		t.Errorf("claims with exp not refused with ERR_BAD_ARGUMENT: %v", hc)
	}
	tok, err := jwt.Parse(string(out.Reply), func(*jwt.Token) (any, error) { return key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token %q does not verify: %v", out.Reply, err)
	}
	c := tok.Claims.(jwt.MapClaims)
	iat, _ := c.GetIssuedAt()
	exp, _ := c.GetExpirationTime()
	if iat == nil || exp == nil || iat.Unix() < before || exp.Sub(iat.Time) != 300*time.Second {
		t.Errorf("iat %v exp %v", iat, exp)
	}
	if c["jti"] != ev.ID || c["sub"] != "plugin" || tok.Header["kid"] != key.KID() {
		t.Errorf("claims %v header %v", c, tok.Header)
	}

	other := load(t, e, "sign", Limits{}, hostfn.Grants{Config: json.RawMessage(`{"key":"other.pem"}`), Sign: sign, Keys: names})
	if out, err := other.Call(context.Background(), ev); err != nil || string(out.Reply) != "E5" {
		t.Errorf("key not granted: %q %v, want E5", out.Reply, err)
	}
	none := load(t, e, "sign", Limits{}, hostfn.Grants{Config: json.RawMessage(`{"key":"relay.pem"}`)})
	if out, err := none.Call(context.Background(), ev); err != nil || string(out.Reply) != "E5" {
		t.Errorf("no keys: %q %v, want E5", out.Reply, err)
	}
}

// TestBadPointersThroughWasm runs badptr.wasm with every capability
// granted: still only ERR_MEMORY and ERR_BAD_ARGUMENT, no trap.
func TestBadPointersThroughWasm(t *testing.T) {
	t.Parallel()
	sign, names := KeySigner(map[string]*jwtsign.Key{})
	g := httpGrants(t, hostfn.HTTPOptions{Allow: []string{"http://127.0.0.1:1"}}, `{}`)
	g.Sign, g.Keys = sign, append(names, "SESS")
	p := load(t, newEngine(t), "badptr", Limits{}, g)
	out, err := p.Call(context.Background(), event("x"))
	if err != nil || out.Status != 0 {
		t.Fatalf("status %d (first failing case) err %v", out.Status, err)
	}
	for _, hc := range out.HostCalls {
		if hc.Status != int64(hostapi.ErrMemory) && hc.Status != int64(hostapi.ErrBadArgument) {
			t.Errorf("%s returned %s", hc.Name, hostapi.StatusName(hc.Status))
		}
	}
	if len(out.HostCalls) != 26 {
		t.Errorf("%d host calls recorded, want 26", len(out.HostCalls))
	}
}

package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// Sign-up decisions by a domain's plugin (issue 17 point 4), end to end:
// a real .wasm (plugins/examples/signup-guard, or the SDK's sign-up test
// guest) as a [[domain]] script, a loopback External WebAPI, and
// Runtime.Signup and the daemon's sign-up endpoint.

const (
	signupGuard = "github.com/hookrt/hookd/plugins/examples/signup-guard"
	signupGuest = "github.com/hookrt/hookd/plugins/pdk/internal/signupguest"
)

// accounts is a loopback account/1 service that allows every sign-up and
// counts the requests.
type accounts struct {
	*httptest.Server
	requests atomic.Int64
}

func newAccounts(t *testing.T) *accounts {
	a := &accounts{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result": {"code": "ok"}, "data": {"by": "service"}}`)
	}))
	t.Cleanup(a.Close)
	return a
}

// signupConfig is a config whose domain "acme" runs the plugin wasm with
// pluginConfig, whose domain "url" has a script URL, and whose [webapi]
// asks svc, with signup_plugin mode and the timeout. Plugins compile
// into the test binary's shared cache (a Go guest compiles in seconds
// under -race).
func signupConfig(t *testing.T, st hookrt.StoreConfig, svc, wasm, pluginConfig, mode, timeout string) *hookrt.Config {
	t.Helper()
	toml := fmt.Sprintf(`
[http_events]
per_domain = true

[[domain]]
id = "acme"
script = %q
[domain.plugin]
state = true
timeout = "10s"
[domain.config]
%s

[[domain]]
id = "url"
script = "http://127.0.0.1:1/events"

[webapi]
url = %q
signup = true
signup_plugin = %q
timeout = %q

[plugins]
cache_dir = %q
`, wasm, pluginConfig, svc, mode, timeout, plugintest.CacheDir(t))
	cfg, err := hookrt.ParseConfig([]byte(toml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	return cfg
}

func signupOf(user, domain, email string) webapi.SignupRequest {
	return webapi.SignupRequest{Username: user, Domain: domain, Email: email, Language: "en", Password: "pw"}
}

// TestSignupPlugin: with signup_plugin "before", the domain's plugin
// refuses what is not on its allow-list, with its reason, and the service
// is not asked; what it allows goes on to the service; it counts the
// sign-ups it allowed in its state and refuses past its bound; a domain
// without a plugin is decided by the service. On SQLite and PostgreSQL.
func TestSignupPlugin(t *testing.T) {
	wasm := plugintest.Build(t, signupGuard)
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		svc := newAccounts(t)
		rt := open(t, signupConfig(t, st, svc.URL, wasm,
			`allow = ["acme.example"]`+"\n"+`max = 2`+"\n"+`message = "Sign up with your acme.example address."`, "before", "5s"),
			hookrt.WithoutWorkers())
		ctx := context.Background()

		res, err := rt.Signup(ctx, signupOf("eve", "acme", "eve@elsewhere.example"))
		if err != nil || res.Outcome != webapi.Refused || res.Message != "Sign up with your acme.example address." ||
			res.MessageID != webapi.MsgSignupRefused {
			t.Fatalf("refused by the plugin: %+v, %v", res, err)
		}
		if n := svc.requests.Load(); n != 0 {
			t.Errorf("the service was asked %d times about a sign-up the plugin refused", n)
		}
		for i, user := range []string{"ann", "bob"} {
			res, err = rt.Signup(ctx, signupOf(user, "acme", user+"@acme.example"))
			if err != nil || res.Outcome != webapi.Allowed || string(res.Data) != `{"by": "service"}` {
				t.Fatalf("%s: %+v, %v; want allowed by the plugin, then by the service", user, res, err)
			}
			if n := svc.requests.Load(); n != int64(i+1) {
				t.Errorf("%s: the service was asked %d times, want %d", user, n, i+1)
			}
		}
		res, _ = rt.Signup(ctx, signupOf("cy", "acme", "cy@acme.example"))
		if res.Outcome != webapi.Refused || res.Message != "This domain takes no more sign-ups (its limit is 2)." {
			t.Errorf("past the bound of 2: %+v", res)
		}
		res, _ = rt.Signup(ctx, signupOf("dan", "url", "dan@elsewhere.example"))
		if res.Outcome != webapi.Allowed || svc.requests.Load() != 3 {
			t.Errorf("a domain without a plugin: %+v, %d requests; want the service's answer", res, svc.requests.Load())
		}
	})
}

// TestSignupPluginHTTP: the daemon's sign-up endpoint (the route the
// runtime hands the API) answers a plugin's refusal as a service's:
// code "refused", the plugin's reason as the description.
func TestSignupPluginHTTP(t *testing.T) {
	t.Parallel()
	svc := newAccounts(t)
	rt := open(t, signupConfig(t, storetest.SQLite(t), svc.URL, plugintest.Build(t, signupGuard),
		`allow = ["acme.example"]`, "before", "5s"), hookrt.WithoutWorkers())
	mux := http.NewServeMux()
	for _, r := range rt.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	post := func(body string) (code, description string) {
		t.Helper()
		resp, err := http.Post(srv.URL+webapi.PathSignup, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct {
			Result struct{ Code, Description string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d, %v", resp.StatusCode, err)
		}
		return a.Result.Code, a.Result.Description
	}
	if code, desc := post(`{"username": "eve", "domain": "acme", "email": "eve@elsewhere.example"}`); code != "refused" ||
		desc != "Sign-ups to this domain are open to addresses at acme.example only." {
		t.Errorf("refused by the plugin: %s %q", code, desc)
	}
	if code, _ := post(`{"username": "ann", "domain": "acme", "email": "ann@acme.example"}`); code != "ok" || svc.requests.Load() != 1 {
		t.Errorf("allowed: %s, %d requests to the service", code, svc.requests.Load())
	}
}

// TestSignupPluginInstead: with "instead", the plugin's allowance is
// final (the service is never asked about its domain), and the service
// still decides the domains without a plugin.
func TestSignupPluginInstead(t *testing.T) {
	t.Parallel()
	svc := newAccounts(t)
	rt := open(t, signupConfig(t, storetest.SQLite(t), svc.URL, plugintest.Build(t, signupGuard),
		`allow = ["acme.example"]`, "instead", "5s"), hookrt.WithoutWorkers())
	ctx := context.Background()
	res, err := rt.Signup(ctx, signupOf("ann", "acme", "ann@acme.example"))
	if err != nil || res.Outcome != webapi.Allowed || res.Data != nil || svc.requests.Load() != 0 {
		t.Fatalf("allowed by the plugin alone: %+v, %v, %d requests to the service", res, err, svc.requests.Load())
	}
	res, _ = rt.Signup(ctx, signupOf("eve", "acme", "eve@elsewhere.example"))
	if res.Outcome != webapi.Refused || svc.requests.Load() != 0 {
		t.Errorf("refused by the plugin alone: %+v, %d requests", res, svc.requests.Load())
	}
	res, _ = rt.Signup(ctx, signupOf("dan", "url", "dan@elsewhere.example"))
	if res.Outcome != webapi.Allowed || svc.requests.Load() != 1 {
		t.Errorf("a domain without a plugin: %+v, %d requests; want the service's answer", res, svc.requests.Load())
	}
}

// TestSignupPluginTimeout: a plugin that does not decide within the
// [webapi] timeout (its own timeout being longer) refuses the sign-up
// with the "unavailable" answer when the WebAPI timeout ends (fail
// closed); the service is not asked.
func TestSignupPluginTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	svc := newAccounts(t)
	rt := open(t, signupConfig(t, storetest.SQLite(t), svc.URL, plugintest.Build(t, signupGuest), ``, "before", timeout.String()),
		hookrt.WithoutWorkers())
	start := time.Now()
	res, err := rt.Signup(context.Background(), signupOf("loop", "acme", "x@acme.example"))
	elapsed := time.Since(start)
	if err != nil || res.Outcome != webapi.Refused || res.MessageID != webapi.MsgSignupUnavailable {
		t.Fatalf("%+v, %v; want refused as unavailable", res, err)
	}
	if elapsed < timeout || elapsed > 30*time.Second {
		t.Errorf("the decision took %s, want the [webapi] timeout, %s (the plugin's own is 10s)", elapsed, timeout)
	}
	if svc.requests.Load() != 0 {
		t.Error("the service was asked after the plugin ran out of time")
	}
	// A plugin that traps also refuses (fail closed).
	res, _ = rt.Signup(context.Background(), signupOf("crash", "acme", "x@acme.example"))
	if res.Outcome != webapi.Refused || res.MessageID != webapi.MsgSignupUnavailable {
		t.Errorf("a plugin that panicked: %+v", res)
	}
}

// TestSignupPluginStoredDomain: a domain stored as data (its plugin
// pushed through the API's runtime method) decides its sign-ups like a
// [[domain]] of config.toml, and the version activated last decides the
// next sign-up: here a plugin without a sign-up handler, which abstains,
// so the service decides again.
func TestSignupPluginStoredDomain(t *testing.T) {
	t.Parallel()
	svc := newAccounts(t)
	cfg := signupConfig(t, storetest.SQLite(t), svc.URL, plugintest.Build(t, signupGuard), `allow = ["acme.example"]`, "before", "5s")
	rt := open(t, cfg, hookrt.WithoutWorkers())
	ctx := context.Background()
	module := func(pkg string) []byte {
		b, err := os.ReadFile(plugintest.Build(t, pkg))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	settings := []byte(`{"plugin": {"state": true, "timeout": "10s"}, "config": {"allow": ["shop.example"]}}`)
	if _, err := rt.PushPlugin(ctx, hook.Operator(), "shop", module(signupGuard), settings, true); err != nil {
		t.Fatal(err)
	}
	res, err := rt.Signup(ctx, signupOf("eve", "shop", "eve@acme.example"))
	if err != nil || res.Outcome != webapi.Refused || res.Message != "Sign-ups to this domain are open to addresses at shop.example only." {
		t.Fatalf("refused by the stored domain's plugin: %+v, %v", res, err)
	}
	if _, err := rt.PushPlugin(ctx, hook.Operator(), "shop", module("github.com/hookrt/hookd/plugins/pdk/internal/nopguest"), nil, true); err != nil {
		t.Fatal(err)
	}
	res, err = rt.Signup(ctx, signupOf("eve", "shop", "eve@acme.example"))
	if err != nil || res.Outcome != webapi.Allowed || svc.requests.Load() != 1 {
		t.Errorf("after activating a version without a sign-up handler: %+v, %v, %d requests; want the service's answer",
			res, err, svc.requests.Load())
	}
}

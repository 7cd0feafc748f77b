package webapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// decider answers sign-ups with its function and records what it was
// asked. The plugin side is tested for real (a .wasm) in runtime's
// TestSignupPlugin*; here it is the WebAPI's rules around it.
type decider struct {
	fn func(ctx context.Context) (hook.SignupDecision, error)

	mu     sync.Mutex
	asked  []map[string]string
	domain []string
}

func (d *decider) DecideSignup(ctx context.Context, domain string, fields map[string]string) (hook.SignupDecision, error) {
	d.mu.Lock()
	d.asked = append(d.asked, fields)
	d.domain = append(d.domain, domain)
	d.mu.Unlock()
	return d.fn(ctx)
}

func (d *decider) calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.asked)
}

func decides(dec hook.SignupDecision, err error) *decider {
	return &decider{fn: func(context.Context) (hook.SignupDecision, error) { return dec, err }}
}

// provisionWith is provision with d as the runtime's decider.
func provisionWith(t testing.TB, url string, d hook.SignupDecider, edit func(*webapi.Service)) (*webapi.Service, *logBuffer) {
	t.Helper()
	s := &webapi.Service{URL: url, Timeout: hook.Duration(2 * time.Second), UseSignup: true}
	if edit != nil {
		edit(s)
	}
	logs := &logBuffer{}
	env := hook.Env{Logger: slog.New(slog.NewTextHandler(logs, nil)), UserAgent: "hookd/test", Signup: d}
	if err := s.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

const serviceRefuses = `{"result": {"code": "taken", "description": "The name is taken.", "errors": ["username"]}}`

// TestSignupPluginModes: who decides a sign-up, for each signup_plugin
// and each answer of the domain's plugin.
func TestSignupPluginModes(t *testing.T) {
	t.Parallel()
	allow := hook.SignupDecision{Decided: true, Allow: true}
	refuse := hook.SignupDecision{Decided: true, Reason: "Only acme.example addresses, please."}
	none := hook.SignupDecision{}
	byPlugin := webapi.SignupResult{Outcome: webapi.Refused, Message: "Only acme.example addresses, please.", MessageID: webapi.MsgSignupRefused}
	byService := webapi.SignupResult{Outcome: webapi.Refused, Message: "The name is taken.", MessageID: webapi.MsgSignupRefused, Fields: []string{"username"}}
	allowed := webapi.SignupResult{Outcome: webapi.Allowed, Message: webapi.TextSignupOK, MessageID: webapi.MsgSignupOK}
	for _, tc := range []struct {
		mode       string
		plugin     hook.SignupDecision
		want       webapi.SignupResult
		asked      int // plugin calls
		requests   int // WebAPI requests
		pluginStat webapi.CallStats
	}{
		{"before", refuse, byPlugin, 1, 0, webapi.CallStats{Refused: 1}},
		{"before", allow, byService, 1, 1, webapi.CallStats{Allowed: 1}}, // the WebAPI has the last word
		{"before", none, byService, 1, 1, webapi.CallStats{}},
		{"instead", refuse, byPlugin, 1, 0, webapi.CallStats{Refused: 1}},
		{"instead", allow, allowed, 1, 0, webapi.CallStats{Allowed: 1}},
		{"instead", none, byService, 1, 1, webapi.CallStats{}}, // no on_signup, or it abstained
		{"off", refuse, byService, 0, 1, webapi.CallStats{}},
	} {
		f := newFake(t, answerJSON(200, serviceRefuses))
		d := decides(tc.plugin, nil)
		s, _ := provisionWith(t, f.URL, d, func(s *webapi.Service) { s.SignupPlugin = tc.mode })
		res, err := s.Signup(context.Background(), ann)
		if err != nil {
			t.Fatal(err)
		}
		name := tc.mode + "/" + map[bool]string{true: "allow", false: "refuse"}[tc.plugin.Allow]
		if !tc.plugin.Decided {
			name = tc.mode + "/undecided"
		}
		if !reflect.DeepEqual(res, tc.want) {
			t.Errorf("%s: got %+v\nwant %+v", name, res, tc.want)
		}
		if d.calls() != tc.asked || len(f.requests()) != tc.requests {
			t.Errorf("%s: plugin asked %d times, WebAPI %d; want %d and %d", name, d.calls(), len(f.requests()), tc.asked, tc.requests)
		}
		if st := s.Stats().SignupPlugin; st != tc.pluginStat {
			t.Errorf("%s: plugin stats %+v, want %+v", name, st, tc.pluginStat)
		}
	}
}

// TestSignupPluginFields: the plugin gets the domain and the fields the
// WebAPI is sent, the language resolved, never the password (even with
// forward_password).
func TestSignupPluginFields(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	d := decides(hook.SignupDecision{}, nil)
	s, _ := provisionWith(t, f.URL, d, func(s *webapi.Service) { s.ForwardPassword = true })
	if _, err := s.Signup(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"username": "ann", "domain": "acme", "email": "ann@acme.example", "fullname": "Ann Example", "language": "de"}
	if len(d.asked) != 1 || !reflect.DeepEqual(d.asked[0], want) || d.domain[0] != "acme" {
		t.Errorf("asked %v for %v, want %v for acme", d.asked, d.domain, want)
	}
}

// TestSignupPluginFailsClosed: a plugin that cannot decide refuses the
// sign-up with the generic "unavailable" answer, the WebAPI is not asked,
// and the cause is logged; a refusal without a reason gets the generic
// refusal text.
func TestSignupPluginFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	for _, mode := range []string{"before", "instead"} {
		s, logs := provisionWith(t, f.URL, decides(hook.SignupDecision{}, errors.New("plugin x.wasm: hookd_v1_on_signup: plugin trapped")),
			func(s *webapi.Service) { s.SignupPlugin = mode })
		res, err := s.Signup(context.Background(), ann)
		if err != nil || !reflect.DeepEqual(res, unavailable) {
			t.Errorf("%s: got %+v, %v; want %+v", mode, res, err, unavailable)
		}
		contains(t, "log", logs.String(), "the domain's plugin could not decide", "plugin trapped")
		if st := s.Stats().SignupPlugin; st != (webapi.CallStats{Unavailable: 1}) {
			t.Errorf("%s: stats %+v", mode, st)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("the WebAPI was asked %d times after the plugin failed", n)
	}
	s, _ := provisionWith(t, f.URL, decides(hook.SignupDecision{Decided: true}, nil), nil)
	res, _ := s.Signup(context.Background(), ann)
	if res.Outcome != webapi.Refused || res.Message != webapi.TextSignupRefused || res.MessageID != webapi.MsgSignupRefused {
		t.Errorf("a refusal without a reason: %+v", res)
	}
}

// TestSignupPluginTimeout: the plugin is asked within the [webapi]
// timeout, and a plugin that does not answer within it refuses the
// sign-up (fail closed) when the timeout ends, not later.
func TestSignupPluginTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	var budget time.Duration
	d := &decider{fn: func(ctx context.Context) (hook.SignupDecision, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return hook.SignupDecision{}, errors.New("no deadline")
		}
		budget = time.Until(dl)
		<-ctx.Done() // a plugin that runs until its deadline stops it
		return hook.SignupDecision{}, ctx.Err()
	}}
	s, _ := provisionWith(t, f.URL, d, func(s *webapi.Service) { s.Timeout = hook.Duration(timeout) })
	start := time.Now()
	res, err := s.Signup(context.Background(), ann)
	elapsed := time.Since(start)
	if err != nil || !reflect.DeepEqual(res, unavailable) {
		t.Errorf("got %+v, %v", res, err)
	}
	if budget <= 0 || budget > timeout {
		t.Errorf("the plugin's budget was %s, want at most the timeout, %s", budget, timeout)
	}
	if elapsed < timeout || elapsed > patience {
		t.Errorf("the decision took %s; want the timeout, %s", elapsed, timeout)
	}
	if len(f.requests()) != 0 {
		t.Error("the WebAPI was asked after the plugin ran out of time")
	}
}

// TestSignupPluginNotWhenOff: with signup off, nothing is delegated:
// neither the WebAPI nor the plugin is asked.
func TestSignupPluginNotWhenOff(t *testing.T) {
	t.Parallel()
	d := decides(hook.SignupDecision{Decided: true}, nil)
	s, _ := provisionWith(t, "http://127.0.0.1:1/", d, func(s *webapi.Service) { s.UseSignup, s.UseForgotPassword = false, true })
	res, err := s.Signup(context.Background(), ann)
	if err != nil || res.Outcome != webapi.NotDelegated || d.calls() != 0 {
		t.Errorf("got %+v, %v; plugin asked %d times", res, err, d.calls())
	}
}

// TestSignupPluginHTTP: over the daemon API, the plugin's refusal is
// answered as the WebAPI's is: code "refused", its reason as the
// description.
func TestSignupPluginHTTP(t *testing.T) {
	t.Parallel()
	d := decides(hook.SignupDecision{Decided: true, Reason: "Only acme.example addresses, please."}, nil)
	s, _ := provisionWith(t, "http://127.0.0.1:1/", d, nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, webapi.PathSignup,
		strings.NewReader(`{"username": "ann", "domain": "acme", "email": "ann@elsewhere.example"}`)))
	want := `{"result":{"code":"refused","description":"Only acme.example addresses, please.","message_id":"signup.refused","errors":[]},"data":null}`
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != want {
		t.Errorf("%d %s\nwant 200 %s", rec.Code, got, want)
	}
}

// TestSignupPluginSetting: signup_plugin defaults to "before" and takes
// only its three values, naming them.
func TestSignupPluginSetting(t *testing.T) {
	t.Parallel()
	s := webapi.Info.New().(*webapi.Service)
	if s.SignupPlugin != webapi.SignupPluginBefore {
		t.Errorf("default %q, want before", s.SignupPlugin)
	}
	s.URL, s.UseSignup, s.SignupPlugin = "https://a.example", true, "after"
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), `signup_plugin: must be "before", "instead" or "off", got "after"`) {
		t.Errorf("Validate: %v", err)
	}
}

// TestSignupPluginMetrics: the plugins' decisions are counted in
// hookd_webapi_calls_total with kind "signup_plugin", beside the
// WebAPI's own calls (kind "signup").
func TestSignupPluginMetrics(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	m := metrics.New(metrics.Options{})
	s := &webapi.Service{URL: f.URL, Timeout: hook.Duration(2 * time.Second), UseSignup: true}
	env := hook.Env{Logger: slog.New(slog.DiscardHandler), Metrics: m.Modules(),
		Signup: decides(hook.SignupDecision{Decided: true, Allow: true}, nil)}
	if err := s.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if res, err := s.Signup(context.Background(), ann); err != nil || res.Outcome != webapi.Allowed {
		t.Fatalf("%+v, %v", res, err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	contains(t, "metrics", rec.Body.String(),
		`hookd_webapi_calls_total{kind="signup_plugin",outcome="ok"} 1`,
		`hookd_webapi_calls_total{kind="signup",outcome="ok"} 1`)
}

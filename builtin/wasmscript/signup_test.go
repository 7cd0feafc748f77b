package wasmscript_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// TestDecideSignup: a loaded plugin decides sign-ups through its
// hookd_v1_on_signup: allowed, refused with its reason, abstained (not
// decided), or an error naming the plugin when it could not decide; the
// call's log lines go to the domain's plugin log with event id "signup",
// and each decision counts among the plugin's calls by outcome.
func TestDecideSignup(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/pdk/internal/signupguest")
	s, err := h.Load(context.Background(), wasmscript.Spec{Domain: "acme", Path: wasm, Settings: wasmscript.Settings{Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	var _ wasmscript.SignupDecider = s
	ask := func(user string) (hook.SignupDecision, error) {
		return s.DecideSignup(context.Background(), map[string]string{"username": user, "domain": "acme", "email": "ann@acme.example"})
	}
	if d, err := ask("allow"); err != nil || d != (hook.SignupDecision{Decided: true, Allow: true}) {
		t.Errorf("allow: %+v, %v", d, err)
	}
	if d, err := ask("refuse"); err != nil || d != (hook.SignupDecision{Decided: true, Reason: "No sign-ups for <ann@acme.example> & co."}) {
		t.Errorf("refuse: %+v, %v", d, err)
	}
	if d, err := ask("abstain"); err != nil || d.Decided {
		t.Errorf("abstain: %+v, %v", d, err)
	}
	d, err := ask("crash")
	if err == nil || d.Decided || !strings.Contains(err.Error(), "plugin "+wasm+": ") || !strings.Contains(err.Error(), "panic: signupguest: crash") ||
		!errors.Is(err, wasmhost.ErrRefused) {
		t.Errorf("crash: %+v, %v", d, err)
	}
	logs := h.Logs("acme")
	if len(logs) == 0 || logs[0].EventID != "signup" || logs[0].Line != "allowing ann@acme.example" {
		t.Errorf("plugin log %+v, want the allow's line with event id signup first", logs)
	}
	calls := s.Status().Calls
	if calls[hook.PluginOK] != 3 || calls[hook.PluginRefused] != 1 {
		t.Errorf("calls by outcome %v, want 3 ok (allow, refuse, abstain) and 1 refused (the crash)", calls)
	}
}

// TestDecideSignupWithout: a plugin without hookd_v1_on_signup (an
// AssemblyScript plugin that does not export it; here a hand-written
// one) is not asked: not decided, nothing counted.
func TestDecideSignupWithout(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	s, err := h.Load(context.Background(), wasmscript.Spec{Domain: "acme", Path: fixture(t, "ok"), Settings: wasmscript.Settings{Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.DecideSignup(context.Background(), map[string]string{"username": "ann"})
	if err != nil || d.Decided {
		t.Errorf("%+v, %v", d, err)
	}
	for o, n := range s.Status().Calls {
		if n != 0 {
			t.Errorf("%d calls counted as %s", n, o)
		}
	}
}

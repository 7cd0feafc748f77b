// Package signuptest holds the sign-up scenarios both SDKs pass: their
// test guests (plugins/pdk/internal/signupguest and
// plugins/pdk-as/test/signup.ts), run for real in hookd's engine,
// allow, refuse with a reason, abstain, read the sign-up's fields, and
// fail in the ways hookd must turn into a refusal (fail closed).
package signuptest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// Guest is one SDK's side of the scenarios.
type Guest struct {
	// Build builds the guest named by Path (a Go package, or an
	// AssemblyScript entry file) and returns its .wasm.
	Build func(t testing.TB, path string) string
	// Path is the sign-up test guest; NoSignup is a plugin of the same SDK
	// without a sign-up handler.
	Path, NoSignup string
	// NoSignupExports is whether NoSignup still exports
	// hookd_v1_on_signup (Go: the export is the SDK's; AssemblyScript: a
	// plugin exports what it chooses).
	NoSignupExports bool
	// Crash is what the "crash" username's failure says (a recovered
	// panic's message, or a trap's).
	Crash string
}

// Fields is a sign-up as hookd hands it to a plugin.
func Fields(user string) map[string]string {
	return map[string]string{hostapi.SignupUsername: user, hostapi.SignupDomain: "acme", hostapi.SignupEmail: "ann@acme.example",
		hostapi.SignupFullName: "Ann Ång", hostapi.SignupLanguage: "de"}
}

// Run runs every scenario on g.
func Run(t *testing.T, g Guest) {
	wasm := g.Build(t, g.Path)
	p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 2}, hostfn.Grants{})
	ctx := context.Background()
	if !p.HasSignup() {
		t.Fatal("HasSignup is false for the sign-up guest")
	}
	verdict := func(user string) (bool, bool, string, wasmhost.Outcome, error) {
		t.Helper()
		out, err := p.CallSignup(ctx, Fields(user))
		if err != nil {
			return false, false, "", out, err
		}
		d, a, r, err := wasmhost.SignupVerdict(out)
		return d, a, r, out, err
	}
	t.Run("allow", func(t *testing.T) {
		d, a, _, out, err := verdict("allow")
		if err != nil || !d || !a {
			t.Fatalf("decided %v allow %v, %v", d, a, err)
		}
		if !HasLog(out, "allowing ann@acme.example") {
			t.Errorf("logs %v", out.Logs)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		d, a, r, _, err := verdict("refuse")
		if err != nil || !d || a || r != "No sign-ups for <ann@acme.example> & co." {
			t.Fatalf("decided %v allow %v reason %q, %v", d, a, r, err)
		}
		d, a, r, _, err = verdict("refuse-silent")
		if err != nil || !d || a || r != "" {
			t.Fatalf("silent: decided %v allow %v reason %q, %v", d, a, r, err)
		}
	})
	t.Run("abstain", func(t *testing.T) {
		if d, _, _, _, err := verdict("abstain"); err != nil || d {
			t.Fatalf("decided %v, %v", d, err)
		}
	})
	t.Run("fields", func(t *testing.T) {
		_, _, r, _, err := verdict("echo")
		if want := "username=echo;domain=acme;email=ann@acme.example;fullname=Ann Ång;language=de;"; err != nil || r != want {
			t.Fatalf("the guest read %q (%v), want %q: the five fields, no password, no EVENT_ID", r, err, want)
		}
	})
	t.Run("fail closed", func(t *testing.T) {
		for user, want := range map[string]string{"crash": g.Crash, "cannot": "pdk: cannot decide the sign-up"} {
			_, _, _, out, err := verdict(user)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error containing %q; logs %v", user, err, want, out.Logs)
			}
		}
	})
	t.Run("deadline", func(t *testing.T) {
		// The caller's deadline (the [webapi] timeout's rest) bounds the
		// call as the plugin's own timeout does.
		q := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
		lctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := q.CallSignup(lctx, Fields("loop")); !errors.Is(err, wasmhost.ErrDeadline) {
			t.Fatalf("%v, want the deadline", err)
		}
		// The instance that ran out was replaced: the next sign-up, which
		// waits for the replacement, is decided.
		out, err := q.CallSignup(ctx, Fields("allow"))
		if d, a, _, verr := wasmhost.SignupVerdict(out); err != nil || verr != nil || !d || !a {
			t.Fatalf("after the deadline: %v %v", err, verr)
		}
	})
	t.Run("no handler", func(t *testing.T) {
		q := plugintest.Load(t, g.Build(t, g.NoSignup), wasmhost.Limits{Instances: 1}, hostfn.Grants{})
		if q.HasSignup() != g.NoSignupExports {
			t.Errorf("HasSignup %v, want %v", q.HasSignup(), g.NoSignupExports)
		}
		out, err := q.CallSignup(ctx, Fields("allow"))
		if d, _, _, verr := wasmhost.SignupVerdict(out); err != nil || verr != nil || d {
			t.Fatalf("a plugin without a sign-up handler: decided %v, %v %v", d, err, verr)
		}
	})
}

// HasLog reports whether out has a log line containing text.
func HasLog(out wasmhost.Outcome, text string) bool {
	for _, l := range out.Logs {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

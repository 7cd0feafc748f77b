package pdk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/wasmhost"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/plugins/internal/signuptest"
)

// TestSignup runs the sign-up scenarios on internal/signupguest, built
// for wasip1 and run in hookd's engine.
func TestSignup(t *testing.T) {
	t.Parallel()
	signuptest.Run(t, signuptest.Guest{
		Build:           plugintest.Build,
		Path:            "github.com/hookrt/hookd/plugins/pdk/internal/signupguest",
		NoSignup:        "github.com/hookrt/hookd/plugins/pdk/internal/nopguest",
		NoSignupExports: true, // the export is package pdk's: it abstains
		Crash:           "panic: signupguest: crash",
	})
}

// TestSignupZeroDecision: a handler that returns the zero Decision (a
// Go-only mistake) does not allow the sign-up: hookd is told the plugin
// could not decide, and the log says what to return.
func TestSignupZeroDecision(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, plugintest.Build(t, "github.com/hookrt/hookd/plugins/pdk/internal/signupguest"),
		wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	out, err := p.CallSignup(context.Background(), signuptest.Fields("zero"))
	if err != nil {
		t.Fatal(err)
	}
	_, allow, _, verr := wasmhost.SignupVerdict(out)
	const want = "pdk: the sign-up handler returned a zero Decision; return pdk.Allow(), pdk.Refuse(reason) or pdk.Abstain()"
	if allow || verr == nil || !strings.Contains(verr.Error(), want) || !signuptest.HasLog(out, want) {
		t.Errorf("allow %v, %v; logs %v", allow, verr, out.Logs)
	}
}

package examples_test

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/plugins/internal/signuptest"
)

const signupGuard = "github.com/hookrt/hookd/plugins/examples/signup-guard"

// TestSignupGuard runs the signup-guard scenarios, which its
// AssemblyScript port passes too, on the Go build.
func TestSignupGuard(t *testing.T) {
	t.Parallel()
	signuptest.RunGuard(t, plugintest.Build, signupGuard)
}

// TestSignupAbstains: a Go plugin that registered no sign-up handler
// still exports hookd_v1_on_signup (it is the SDK's) and abstains.
func TestSignupAbstains(t *testing.T) {
	t.Parallel()
	p := load(t, rateLimit, rateGrants(t, store.NewMemoryState(), rateConfig))
	out, err := p.CallSignup(context.Background(), signuptest.Fields("u"))
	if decided, _, _, verr := wasmhost.SignupVerdict(out); err != nil || verr != nil || decided {
		t.Errorf("a plugin without a sign-up handler: decided %v, %v %v", decided, err, verr)
	}
}

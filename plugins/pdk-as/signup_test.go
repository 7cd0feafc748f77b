package pdkas_test

import (
	"testing"

	"github.com/hookrt/hookd/plugins/internal/signuptest"
)

// TestSignup runs the sign-up scenarios on test/signup.ts, compiled with
// asc, in hookd's engine. Unlike a Go plugin, an AssemblyScript plugin
// exports hookd_v1_on_signup only when it chooses to.
func TestSignup(t *testing.T) {
	t.Parallel()
	signuptest.Run(t, signuptest.Guest{
		Build:           buildAS,
		Path:            "test/signup.ts",
		NoSignup:        "test/minimal.ts",
		NoSignupExports: false,
		Crash:           "plugin trapped",
	})
}

package pdkas_test

import (
	"testing"

	"github.com/hookrt/hookd/plugins/internal/signuptest"
)

// TestSignupGuard runs the signup-guard scenarios, which the Go original
// passes too, on the AssemblyScript port.
func TestSignupGuard(t *testing.T) {
	t.Parallel()
	signuptest.RunGuard(t, buildAS, "../examples-as/signup-guard/assembly/index.ts")
}

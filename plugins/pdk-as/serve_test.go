package pdkas_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/plugintest/exampletest"
)

// TestServeASPlugins runs both AssemblyScript examples through `hookd
// serve` (a process of its own: this package cannot call cmd/hookd's
// run), with exampletest's scenario, which cmd/hookd's TestServePlugins
// runs with the Go ones.
func TestServeASPlugins(t *testing.T) {
	t.Parallel()
	bin := buildHookd(t)
	exampletest.Serve{
		SessionGuard: buildAS(t, sessionGuard),
		JWTRelay:     buildAS(t, jwtRelay),
		Start: func(t *testing.T, config string) (<-chan struct{}, fmt.Stringer) {
			d := daemontest.Start(t, bin, "serve", "-config", config)
			return d.Exited, d.Out
		},
	}.Run(t)
}

// buildHookd builds cmd/hookd into t's temporary directory (without the
// race detector: the daemon is the system under test, not this binary).
func buildHookd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/hookrt/hookd/cmd/hookd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/hookd: %v\n%s", err, out)
	}
	return bin
}

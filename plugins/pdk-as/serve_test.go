package pdkas_test

import (
	"fmt"
	"testing"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/exampletest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// TestServeASPlugins runs both AssemblyScript examples through `hookd
// serve` (a process of its own: this package cannot call cmd/hookd's
// run), with exampletest's scenario, which cmd/hookd's TestServePlugins
// runs with the Go ones.
func TestServeASPlugins(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "the hookd binary built")
	bin := plugintest.Binary(t, "github.com/hookrt/hookd/cmd/hookd")
	exampletest.Serve{
		SessionGuard: buildAS(t, sessionGuard),
		JWTRelay:     buildAS(t, jwtRelay),
		Start: func(t *testing.T, config string) (<-chan struct{}, fmt.Stringer) {
			d := daemontest.Start(t, bin, "serve", "-config", config)
			return d.Exited, d.Out
		},
	}.Run(t)
}

package main

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/exampletest"
)

// TestMain: plugintest builds the example plugins (see TestServePlugins),
// and removes what it keeps for this binary alone.
func TestMain(m *testing.M) { plugintest.Main(m, removeBuiltHookd) }

// TestServePlugins runs both example plugins through `hookd serve`, in
// this binary, with exampletest's scenario, which plugins/pdk-as runs with
// their AssemblyScript ports: a session from a blocked network is dropped
// (XMLMSG to the proxy's endpoint), and an event is relayed as a JWT
// verified at a loopback receiver.
//
// The plugins are built (GOOS=wasip1) and compiled by plugintest, into the
// compilation cache the test binaries share, which serves as hookd's
// cache_dir: the daemon starts without compiling them, and does not
// compile them at the same time as another test binary.
func TestServePlugins(t *testing.T) {
	exampletest.Serve{
		SessionGuard: plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard"),
		JWTRelay:     plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/jwt-relay"),
		CacheDir:     plugintest.CacheDir(t),
		MemoryPages:  512,
		Start: func(t *testing.T, config string) (<-chan struct{}, fmt.Stringer) {
			ctx, cancel := context.WithCancel(context.Background())
			stderr := &lockedBuffer{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				run(ctx, []string{"serve", "-config", config}, io.Discard, stderr)
			}()
			t.Cleanup(func() {
				cancel()
				<-done
			})
			return done, stderr
		},
	}.Run(t)
}

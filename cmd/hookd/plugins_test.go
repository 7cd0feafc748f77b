package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/exampletest"
)

// TestMain: plugintest builds the example plugins (see TestServePlugins),
// and removes what it keeps for this binary alone.
//
// On a run of the whole package (no -run, no -short) the hookd binary the
// process tests start is built at once, in the background: the build then
// overlaps the in-process tests that come first (the admin page's browser
// test among them) instead of holding up the first test that needs it.
func TestMain(m *testing.M) {
	flag.Parse()
	prebuilt := make(chan struct{})
	if run := flag.Lookup("test.run"); !testing.Short() && (run == nil || run.Value.String() == "") {
		go func() {
			defer close(prebuilt)
			_, _ = buildOnce() // a failure is reported by the tests that need the binary
		}()
	} else {
		close(prebuilt)
	}
	plugintest.Main(m, func() {
		<-prebuilt // removeBuiltHookd reads what the build wrote
		removeBuiltHookd()
	})
}

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
	t.Parallel()
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

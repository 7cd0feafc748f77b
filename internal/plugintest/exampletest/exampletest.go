// Package exampletest holds the scenarios of hookd's example plugins,
// session-guard and jwt-relay, which exist once per SDK (Go in
// plugins/examples, AssemblyScript in plugins/examples-as) and must
// behave the same: each SDK's tests run them against its builds.
//
//	func TestExamples(t *testing.T) {
//		t.Parallel()
//		exampletest.Run(t, exampletest.Plugins{Build: plugintest.Build, SessionGuard: ".../session-guard", …})
//	}
//
// [Serve] runs both examples through `hookd serve`, for cmd/hookd's
// tests (the Go builds, in the test binary) and the AssemblyScript SDK's
// (a hookd process).
package exampletest

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// Plugins is one SDK's build of the examples.
type Plugins struct {
	// Build builds the plugin whose source is src, as the SDK's plugin
	// authors build, and returns the path of the .wasm.
	Build func(t testing.TB, src string) string
	// SessionGuard and JWTRelay are the examples' sources, for Build.
	SessionGuard, JWTRelay string
	// GuardConfigErrors are configs session-guard refuses in the SDK's
	// own words, besides those both SDKs word alike: an address parser's
	// error (Go's net/netip names the function and the input; the
	// AssemblyScript port gives the reason alone) and type names
	// ("[]string" in Go, "string[]" in AssemblyScript). The value is the
	// start of the error.
	GuardConfigErrors map[string]string
}

// Run runs every scenario of the examples against p's builds, each as a
// parallel subtest.
func Run(t *testing.T, p Plugins) {
	// Hold each example loaded while the scenarios run, which load and
	// close their own: see sdktest.Run for the race in wazero this
	// avoids.
	p.load(t, p.SessionGuard, hostfn.Grants{})
	p.load(t, p.JWTRelay, hostfn.Grants{})
	for _, s := range []struct {
		name string
		run  func(*testing.T, Plugins)
	}{
		{"SessionGuard", testSessionGuard},
		{"SessionGuardInvalidConfig", testSessionGuardInvalidConfig},
		{"JWTRelay", testJWTRelay},
		{"JWTRelayFailures", testJWTRelayFailures},
		{"JWTRelayDeadline", testJWTRelayDeadline},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, p)
		})
	}
}

// load loads the example at src with g, one instance.
func (p Plugins) load(t *testing.T, src string, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, p.Build(t, src), wasmhost.Limits{Instances: 1}, g)
}

// HasLog reports whether the call logged a line at level containing text.
func HasLog(out wasmhost.Outcome, level int32, text string) bool {
	for _, l := range out.Logs {
		if l.Level == level && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

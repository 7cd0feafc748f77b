package examples_test

import (
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/exampletest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// The examples are built with the Go toolchain (GOOS=wasip1) and run in
// hookd's engine, as hookd would run them. session-guard and jwt-relay
// run exampletest's scenarios, which their AssemblyScript ports
// (plugins/examples-as) pass too.

func TestMain(m *testing.M) { plugintest.Main(m) }

// goExamples are the Go builds, and what session-guard says in Go's words.
var goExamples = exampletest.Plugins{
	Build:        plugintest.Build,
	SessionGuard: "github.com/hookrt/hookd/plugins/examples/session-guard",
	JWTRelay:     "github.com/hookrt/hookd/plugins/examples/jwt-relay",
	GuardConfigErrors: map[string]string{
		`{"block": ["10.0.0.0/33"], "secret": "s"}`:              `session-guard: invalid config: block[0] "10.0.0.0/33" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`,
		`{"block": ["1.2.3.4/08"], "secret": "s"}`:               `session-guard: invalid config: block[0] "1.2.3.4/08" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: netip.ParsePrefix("1.2.3.4/08"): bad bits after slash: "08"`,
		`{"block": ["2001:db8::/32", "1::2::3"], "secret": "s"}`: `session-guard: invalid config: block[1] "1::2::3" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: ParseAddr("1::2::3"): multiple :: in address`,
		`{"block": "10.0.0.0/8", "secret": "s"}`:                 "session-guard: invalid config: pdk: config: block: cannot use a string as []string",
	},
}

func TestExamples(t *testing.T) {
	t.Parallel()
	exampletest.Run(t, goExamples)
}

// load loads the Go example pkg with g, one instance.
func load(t *testing.T, pkg string, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.Build(t, pkg), wasmhost.Limits{Instances: 1}, g)
}

// hasLog reports whether the call logged a line at level containing text.
var hasLog = exampletest.HasLog

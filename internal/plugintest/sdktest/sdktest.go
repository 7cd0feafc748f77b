// Package sdktest is the conformance suite of hookd's guest SDKs: the Go
// PDK (plugins/pdk) and the AssemblyScript SDK (plugins/pdk-as) promise
// the same behaviour, so one set of scenarios runs against each SDK's
// test guest, as testing/fstest runs against any fs.FS:
//
//	func TestSDK(t *testing.T) {
//		t.Parallel()
//		sdktest.Run(t, sdktest.Guest{Build: plugintest.Build, TestGuest: ".../internal/testguest", …})
//	}
//
// # The op protocol
//
// A test guest answers each event by its "op" field. Every SDK's guest
// implements these ops, which the suite uses; most answer with the raw
// XML reply of a text, so that the test reads a result from the reply:
//
//	get        "true:<value>" or "false:" for the field named by "name"
//	name       the event's name (Event.Name)
//	fields     all fields, as a JSON object
//	commands   msgbox and chat of "text" (chat labelled "label") and a drop
//	           for SESSIONID, and a drop for "other", under secret "secret"
//	drop       a drop of SESSIONID alone, with the secret set apart
//	nomessage  <nomessage/>
//	invalid    a msgbox with a blank message, which the SDK must refuse
//	fail       a failure (status 1) saying "text"
//	failperm   a permanent failure (status 2) saying "text"
//	config     the decoded config written back as JSON, or its error (status 2)
//	log        four lines, one per level
//	time       the clock and the time left, in ms: "<now> <left>"
//	sign       a JWT of "claims" signed with "key", or "E<errno> <error>"
//	fetch      a request ("method", "url", header X-Test: "text", "body"):
//	           the response as JSON, or "E<errno> <error>"
//	fetchmany  GETs of "url" until one fails: the statuses and the error
//
// # Notes
//
//   - An SDK's guest has ops of its own, for what only that SDK has (the
//     AssemblyScript guest's getbytes, escape, json, alloc…); their tests
//     stay in the SDK's package. The suite takes only the knobs of
//     [Guest], where the two SDKs differ in what they can express or in
//     the words of an error, and each says why.
//   - The suite calls t.Parallel in each scenario; a scenario's plugins
//     are loaded with [plugintest.Load], closed when it ends.
package sdktest

import (
	"context"
	"maps"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// Guest is one SDK's side of the suite: how to build its plugins, and
// what it does differently.
type Guest struct {
	// Build builds the plugin whose source is src, as the SDK's plugin
	// authors build, and returns the path of the .wasm:
	// [plugintest.Build] for Go, asc for AssemblyScript.
	Build func(t testing.TB, src string) string
	// TestGuest is the source of the guest that implements the op
	// protocol (see the package notes).
	TestGuest string
	// NoHandler is the source of a plugin that never registers its
	// handler, which hookd must refuse to load.
	NoHandler string
	// Minimal is the source of the SDK's smallest plugin, which answers
	// <nomessage/> to every event.
	Minimal string

	// NoMessageOps are the guest's ops, beyond "nomessage", that must
	// answer <nomessage/>: Go's handler may return a nil Reply ("nil");
	// an AssemblyScript Reply cannot be null.
	NoMessageOps []string
	// Failures are the ways to fail that only this SDK has, checked as
	// the shared ones: Go's Fail(nil) and recovered panics,
	// AssemblyScript's fail("") and its cap on commands (its guest
	// builds the 101 commands; Go's guest has no op for it).
	Failures []Failure
	// Config is the round trip of the config op, whose config type is
	// the guest's own (the SDKs decode different types).
	Config Config
	// SignErrors are sign cases only this SDK can express: the
	// AssemblyScript SDK takes the claims as JSON text, so it can pass
	// the host claims that are not an object; Go's takes a map.
	SignErrors []SignError
}

// Failure is an op that fails, and how.
type Failure struct {
	Op, Text string // the op, and its "text" field
	Session  string // SESSIONID
	Status   int32  // the outcome's status: 1 retry, 2 permanent
	Msg      string // the outcome's error
	// Logged is text the first log line, an error, must contain: the
	// stack trace of a recovered panic ("goroutine"). "" checks nothing.
	Logged string
}

// Config is the config op's round trip.
type Config struct {
	// Given is a config the guest accepts; Want is the op's reply with
	// it, byte for byte: the config as decoded, written back.
	Given, Want string
	// Default is the reply without a config: zero values and defaults.
	Default string
	// Invalid maps configs the guest refuses, besides an unknown field,
	// to the error (status 2), in the SDK's words: type names are the
	// language's ("int" in Go, "i64" in AssemblyScript).
	Invalid map[string]string
}

// SignError is a sign op that the host refuses.
type SignError struct {
	Name, Key, Claims string
	Want              string // the start of the reply, "E<errno> pdk: jwt_sign: …"
}

// Run runs every scenario of the suite against g, each as a parallel
// subtest named after what it checks.
func Run(t *testing.T, g Guest) {
	// Hold the test guest loaded while the scenarios run. Each loads its
	// own and closes it; were they all closed at once, the engine would
	// drop the compiled code, and the next two loads would read it back
	// from the disk cache together, which races in wazero v1.12: it
	// publishes a module read from its file cache before it compiles the
	// module's entry preambles (internal/engine/wazevo/engine_cache.go;
	// wazero/wazero#2547, open), so that the second load may instantiate
	// it half-made.
	g.Load(t, hostfn.Grants{})
	for _, s := range []struct {
		name string
		run  func(*testing.T, Guest)
	}{
		{"EventGet", testEventGet},
		{"EventName", testEventName},
		{"EventFields", testEventFields},
		{"Commands", testCommands},
		{"SingleCommand", testSingleCommand},
		{"NoMessage", testNoMessage},
		{"Failures", testFailures},
		{"ReplyTooLarge", testReplyTooLarge},
		{"Config", testConfig},
		{"Log", testLog},
		{"Clock", testClock},
		{"SignJWT", testSignJWT},
		{"Fetch", testFetch},
		{"NoHandler", testNoHandler},
		{"Loads", testLoads},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, g)
		})
	}
}

// Load loads the test guest with gr, one instance, in plugintest's
// engine, for the SDK's own tests as for the suite's.
func (g Guest) Load(t *testing.T, gr hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, g.Build(t, g.TestGuest), wasmhost.Limits{Instances: 1}, gr)
}

// Call runs op with the given fields (over [plugintest.Event]) and fails
// t on a host error.
func Call(t *testing.T, p *wasmhost.Plugin, op string, fields map[string]string) wasmhost.Outcome {
	t.Helper()
	f := map[string]string{"op": op}
	maps.Copy(f, fields)
	out, err := p.Call(context.Background(), plugintest.Event(f))
	if err != nil {
		t.Fatalf("op %s: %v; logs %v", op, err, out.Logs)
	}
	return out
}

// Reply runs op and returns its reply, failing t unless the status is 0.
func Reply(t *testing.T, p *wasmhost.Plugin, op string, fields map[string]string) string {
	t.Helper()
	out := Call(t, p, op, fields)
	if out.Status != 0 {
		t.Fatalf("op %s: status %d (%s); logs %v", op, out.Status, out.Error, out.Logs)
	}
	return string(out.Reply)
}

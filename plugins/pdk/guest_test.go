package pdk_test

import (
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/sdktest"
)

// These tests run package pdk for real: internal/testguest, built with the
// Go toolchain for wasip1, in hookd's engine. The "op" field of each
// event picks what the guest does (see its source). The scenarios are
// sdktest's, which the AssemblyScript SDK passes too.

func TestMain(m *testing.M) { plugintest.Main(m) }

const testguest = "github.com/hookrt/hookd/plugins/pdk/internal/testguest"

// goConfig is a config of the test guest's type.
const goConfig = `{"secret":"s","key":"k.pem","url":"https://x.example","limit":3,"tags":["a","b"],"extra":{"b":true,"n":1.5}}`

// goGuest is package pdk's side of sdktest: where the Go PDK does what
// the AssemblyScript SDK cannot (a nil Reply, a nil error, a recovered
// panic), and its config type.
var goGuest = sdktest.Guest{
	Build:        plugintest.Build,
	TestGuest:    testguest,
	NoHandler:    "github.com/hookrt/hookd/plugins/pdk/internal/nohandler",
	Minimal:      "github.com/hookrt/hookd/plugins/pdk/internal/nopguest",
	NoMessageOps: []string{"nil"},
	Failures: []sdktest.Failure{
		{Op: "failnil", Session: "5a1b", Status: 1, Msg: "pdk: failed without an error"},
		// A panic is recovered: a failure, with the stack trace logged.
		{Op: "panic", Text: `boom <&">`, Session: "5a1b", Status: 1, Msg: `panic: boom <&">`, Logged: "goroutine"},
		{Op: "nilmap", Session: "5a1b", Status: 1, Msg: "panic: assignment to entry in nil map", Logged: "goroutine"},
	},
	Config: sdktest.Config{
		Given:   goConfig,
		Want:    goConfig, // every field set, in the type's order: written back as given
		Default: `{"secret":"","key":"","url":"","limit":0,"tags":null,"extra":null}`,
		Invalid: map[string]string{
			`{"limit":"three"}`: "pdk: config: limit: cannot use a string as int",
		},
	},
}

func TestSDK(t *testing.T) {
	t.Parallel()
	sdktest.Run(t, goGuest)
}

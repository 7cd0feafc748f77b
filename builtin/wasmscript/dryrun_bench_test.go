package wasmscript_test

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
)

// BenchmarkDryRun measures one dry run of an upload (its bytes written to
// a temporary file, loaded with one instance, run on 10 events, closed)
// with the compiled code already cached, as a domain owner's second test
// of the same module finds it: the WAT echo fixture, and the Go
// rate-limit example (a 2-3 MB module whose Go runtime starts at init).
func BenchmarkDryRun(b *testing.B) {
	for _, tc := range []struct {
		name  string
		wasm  func(b *testing.B) string
		pages uint32
	}{
		{"wat-echo", func(b *testing.B) string { return fixture(b, "echo") }, 0},
		{"go-rate-limit", func(b *testing.B) string {
			return plugintest.Build(b, "github.com/hookrt/hookd/plugins/examples/rate-limit")
		}, 128},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{CacheDir: b.TempDir(), PrivateDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			spec := wasmscript.Spec{Domain: "5", Module: readFixtureFile(b, tc.wasm(b)), Strict: true,
				Config:   map[string]any{"limit": 5, "secret": "s"},
				Settings: wasmscript.Settings{MemoryPages: tc.pages, Timeout: testTimeout, State: true}}
			evs := make([]*hook.Event, 10)
			for i := range evs {
				evs[i] = event("s")
			}
			if _, err := h.DryRun(context.Background(), spec, evs, nil, false); err != nil { // compiles once
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := h.DryRun(context.Background(), spec, evs, nil, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDryRunSignups measures one dry run of the signup-guard example
// (uploaded, compiled code cached) on 10 sign-ups, and reports the guest
// time per sign-up: what an owner's sign-up test costs the node.
func BenchmarkDryRunSignups(b *testing.B) {
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{CacheDir: b.TempDir(), PrivateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	spec := wasmscript.Spec{Domain: "acme", Module: readFixtureFile(b, plugintest.Build(b, signupGuard)),
		Config: map[string]any{"allow": []any{"acme.example"}}, Settings: wasmscript.Settings{Timeout: testTimeout, State: true}}
	in := wasmscript.DryRunInput{}
	for i := range 10 {
		email := "u@acme.example"
		if i%2 == 1 {
			email = "u@elsewhere.example"
		}
		in.Signups = append(in.Signups, hook.DryRunSignup{Username: "u", Domain: "acme", Email: email})
	}
	if _, err := h.DryRunReport(context.Background(), spec, in); err != nil { // compiles once
		b.Fatal(err)
	}
	var guest, n int64
	for b.Loop() {
		rep, err := h.DryRunReport(context.Background(), spec, in)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range rep.Signups {
			guest += int64(s.Duration)
			n++
		}
	}
	b.ReportMetric(float64(guest)/float64(n), "guest-ns/signup")
}

package pdkas_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// BenchmarkSessionGuard sets the AssemblyScript session-guard beside the Go
// one (plugins/examples/session-guard), for each:
//
//   - compile: wazero compiling the module from scratch (a new cache each
//     time), with the engine's settings; wasm-bytes is the module's size;
//   - instantiate: starting one instance of the compiled module
//     (_initialize, hookd_v1_init) and closing it, what replacing a failed
//     instance costs; pages is its linear memory once started;
//   - call-allowed, call-blocked: one call on a warm instance, the default
//     250 ms deadline enforced, for a ~300-byte NEWSESSION event whose
//     address is allowed (<nomessage/>) or blocked (a <drop/> reply).
//
// Run with: go test -run '^$' -bench BenchmarkSessionGuard -benchtime 2000x ./plugins/pdk-as/
func BenchmarkSessionGuard(b *testing.B) {
	cfg := json.RawMessage(`{"block": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"], "secret": "s3cret"}`)
	allowed := plugintest.Event(nil) // reasonAddress 203.0.113.42
	blocked := plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"})
	for _, g := range []struct {
		name  string
		build func(b *testing.B) string
	}{
		{"as", func(b *testing.B) string { return buildAS(b, sessionGuard) }},
		{"go", func(b *testing.B) string {
			return plugintest.Build(b, "github.com/hookrt/hookd/plugins/examples/session-guard")
		}},
	} {
		b.Run(g.name+"/compile", func(b *testing.B) {
			wasm := readFile(b, g.build(b))
			ctx := context.Background()
			for b.Loop() {
				cache := wazero.NewCompilationCache()
				r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithCompilationCache(cache))
				if _, err := r.CompileModule(ctx, wasm); err != nil {
					b.Fatal(err)
				}
				_ = r.Close(ctx)
				_ = cache.Close(ctx)
			}
			b.ReportMetric(float64(len(wasm)), "wasm-bytes")
		})
		b.Run(g.name+"/instantiate", func(b *testing.B) {
			benchInstantiate(b, readFile(b, g.build(b)))
		})
		for _, c := range []struct {
			name string
			ev   *hook.Event
		}{{"call-allowed", allowed}, {"call-blocked", blocked}} {
			b.Run(g.name+"/"+c.name, func(b *testing.B) {
				p := plugintest.Load(b, g.build(b), wasmhost.Limits{Instances: 1, Timeout: wasmhost.DefaultTimeout}, hostfn.Grants{Config: cfg})
				ctx := context.Background()
				if out, err := p.Call(ctx, c.ev); err != nil || out.Status != 0 {
					b.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Call(ctx, c.ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMinimal is BenchmarkSessionGuard's measures for the smallest
// AssemblyScript plugin (test/minimal.ts, <nomessage/> to everything),
// beside the Go SDK's (plugins/pdk/internal/nopguest): the SDK's own cost.
func BenchmarkMinimal(b *testing.B) {
	ev := plugintest.Event(nil)
	for _, g := range []struct {
		name  string
		build func(b *testing.B) string
	}{
		{"as", func(b *testing.B) string { return buildAS(b, "test/minimal.ts") }},
		{"go", func(b *testing.B) string {
			return plugintest.Build(b, "github.com/hookrt/hookd/plugins/pdk/internal/nopguest")
		}},
	} {
		b.Run(g.name+"/instantiate", func(b *testing.B) {
			wasm := readFile(b, g.build(b))
			benchInstantiate(b, wasm)
			b.ReportMetric(float64(len(wasm)), "wasm-bytes")
		})
		b.Run(g.name+"/call", func(b *testing.B) {
			p := plugintest.Load(b, g.build(b), wasmhost.Limits{Instances: 1, Timeout: wasmhost.DefaultTimeout}, hostfn.Grants{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Call(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchInstantiate measures instantiating the compiled wasm with the host
// modules hookd links (WASI, hookd_v1), running _initialize and
// hookd_v1_init, and closing it.
func benchInstantiate(b *testing.B, wasm []byte) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	defer r.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		b.Fatal(err)
	}
	if _, err := hostfn.Instantiate(ctx, r); err != nil {
		b.Fatal(err)
	}
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions(hostapi.ReactorInit).
		WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader)
	var pages uint32
	b.ReportAllocs()
	for b.Loop() {
		mod, err := r.InstantiateModule(ctx, compiled, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if init := mod.ExportedFunction(hostapi.InitExport); init != nil {
			if _, err := init.Call(ctx); err != nil {
				b.Fatal(err)
			}
		}
		pages = mod.Memory().Size() >> 16
		_ = mod.Close(ctx)
	}
	b.ReportMetric(float64(pages), "pages")
}

package wasmhost

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/timingtest"
	"github.com/tetratelabs/wazero"
)

// BenchmarkCall measures one call of a warm instance, deadline enforced
// (the default 250ms, with wazero's watcher), on a ~300-byte event.
func BenchmarkCall(b *testing.B) {
	e := newEngine(b)
	ev := event("5a1d")
	for _, name := range []string{"ok", "echo"} {
		p := load(b, e, name, Limits{Timeout: DefaultTimeout}, hostfn.Grants{})
		label := map[string]string{"ok": "minimal", "echo": "echo"}[name]
		b.Run(label, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Call(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(label+"/parallel", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := p.Call(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// goGuest builds a minimal Go wasip1 reactor (about 2 MB), the bigger guest
// of the compile benchmarks; it skips when the toolchain cannot.
func goGuest(b *testing.B) []byte {
	b.Helper()
	dir := b.TempDir()
	src := `package main

//go:wasmexport hookd_v1_on_event
func onEvent() int32 { return 0 }

func main() {}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module guest\n\ngo 1.24\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", "guest.wasm", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("cannot build a Go guest: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, "guest.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

// BenchmarkCompile measures compiling a plugin in a fresh runtime: with a
// new cache each time (cold), with the engine's warm in-memory cache
// (cached), and from a warm on-disk cache in a new cache object, as after
// a restart (file).
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	guests := []struct {
		name string
		wasm func(b *testing.B) []byte
	}{
		{"ok", func(b *testing.B) []byte { return mustRead(b, fixture("ok")) }},
		{"go", goGuest},
	}
	for _, g := range guests {
		var wasm []byte
		var once sync.Once
		get := func(b *testing.B) []byte {
			once.Do(func() { wasm = g.wasm(b) })
			if wasm == nil {
				b.Skip("no guest")
			}
			return wasm
		}
		compile := func(b *testing.B, cache wazero.CompilationCache, w []byte) {
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
				WithCloseOnContextDone(true).WithCompilationCache(cache))
			if _, err := r.CompileModule(ctx, w); err != nil {
				b.Fatal(err)
			}
			_ = r.Close(ctx)
		}
		b.Run("cold/"+g.name, func(b *testing.B) {
			w := get(b)
			for b.Loop() {
				c := wazero.NewCompilationCache()
				compile(b, c, w)
				_ = c.Close(ctx)
			}
			b.ReportMetric(float64(len(w)), "wasm-bytes")
		})
		b.Run("cached/"+g.name, func(b *testing.B) {
			w := get(b)
			c := wazero.NewCompilationCache()
			defer c.Close(ctx)
			compile(b, c, w)
			for b.Loop() {
				compile(b, c, w)
			}
		})
		b.Run("file/"+g.name, func(b *testing.B) {
			w := get(b)
			dir := b.TempDir()
			warm, err := wazero.NewCompilationCacheWithDir(dir)
			if err != nil {
				b.Fatal(err)
			}
			compile(b, warm, w)
			_ = warm.Close(ctx)
			for b.Loop() {
				c, err := wazero.NewCompilationCacheWithDir(dir)
				if err != nil {
					b.Fatal(err)
				}
				compile(b, c, w)
				_ = c.Close(ctx)
			}
		})
	}
}

// BenchmarkInstantiate measures starting one instance of a compiled plugin
// (what a replacement costs, off the event path), and reports the Go heap a
// warm instance holds (its linear memory included).
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"ok", "echo", "go"} {
		b.Run(name, func(b *testing.B) {
			e := newEngine(b)
			path := fixture(name)
			if name == "go" {
				path = filepath.Join(b.TempDir(), "go.wasm")
				if err := os.WriteFile(path, goGuest(b), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			p, err := e.Load(ctx, path, Limits{Instances: 1}, hostfn.Grants{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(ctx)
			v := p.cur.Load()
			b.ReportAllocs()
			for b.Loop() {
				inst, err := v.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				inst.close()
			}
			b.StopTimer()
			b.ReportMetric(float64(instanceHeap(b, v)), "heap-B/instance")
		})
	}
}

// instanceHeap is the live heap of one more warm instance of v, averaged
// over 64.
func instanceHeap(b *testing.B, v *version) uint64 {
	const n = 64
	insts := make([]*instance, 0, n)
	before := liveHeap()
	for range n {
		inst, err := v.newInstance(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		insts = append(insts, inst)
	}
	after := liveHeap()
	for _, inst := range insts {
		inst.close()
	}
	if after < before {
		return 0
	}
	return (after - before) / n
}

// BenchmarkDeadlineOvershoot measures how long after a 10ms deadline a
// looping guest is stopped, as p50, p99 and max of the calls made: with
// the engine's watchdog on a timerfd, as hookd runs ("watchdog"), and with
// a context.WithTimeout per call, as hookd did ("timer"); on a quiet
// process ("quiet") and beside a goroutine allocating 1 MiB a millisecond,
// so that the garbage collector's mark phases come one after another
// ("gc"). The breaker is off: every call loops.
func BenchmarkDeadlineOvershoot(b *testing.B) {
	const timeout = 10 * time.Millisecond
	for _, mech := range []string{"watchdog", "timer"} {
		for _, bg := range []string{"quiet", "gc"} {
			b.Run(mech+"/"+bg, func(b *testing.B) {
				e := newEngine(b)
				e.timerDeadlines = mech == "timer"
				p := load(b, e, "loop", Limits{Timeout: timeout, Instances: 2}, hostfn.Grants{})
				noBreaker(p)
				stop := timingtest.Background(bg)
				defer stop()
				ctx := context.Background()
				var over []time.Duration
				for b.Loop() {
					out, err := p.Call(ctx, event("x"))
					if err == nil {
						b.Fatal("the loop returned")
					}
					over = append(over, out.Duration-timeout)
				}
				timingtest.ReportOvershoot(b, over)
			})
		}
	}
}

// BenchmarkMemoryGrow measures a guest growing its memory from 1 page to
// 16 MiB one 64 KiB page at a time (grow.wasm, memory_pages 256), on a
// fresh instance each time: with wazero's default memory, which copies the
// whole memory at every memory.grow ("heap"), and with the instance's
// maximum reserved up front, as hookd runs it ("reserved"). It reports the
// guest's time per growth to 16 MiB (ns/op), and starting the instance
// with it ("start-µs").
func BenchmarkMemoryGrow(b *testing.B) {
	for _, mode := range []string{"heap", "reserved"} {
		b.Run(mode, func(b *testing.B) {
			e := newEngine(b)
			e.heapMemory = mode == "heap"
			p := load(b, e, "grow", Limits{MemoryPages: 256, Instances: 1}, hostfn.Grants{})
			v := p.cur.Load()
			(<-v.pool).close() // the pool is this benchmark's
			ctx := context.Background()
			var start time.Duration
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				inst, err := v.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				start += time.Since(t0)
				b.StartTimer()
				out, _, err := v.run(ctx, ctx, inst, inst.entry, true, event("x"), time.Now(), nil) // back into the pool
				if err != nil || out.Status != 256 {
					b.Fatalf("status %d, %v", out.Status, err)
				}
				b.StopTimer()
				(<-v.pool).close()
				b.StartTimer()
			}
			b.ReportMetric(float64(start.Microseconds())/float64(b.N), "start-µs")
		})
	}
}

package wasmscript_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// BenchmarkHandleDeadlineOvershoot measures how long after its deadline a
// looping plugin is stopped when called as the delivery engine calls it:
// Script.Handle under a context with the delivery timeout (10 s), one
// looping call at a time (halfloop.wasm answers an instance's first call
// and loops on its second, so the breaker never backs it off). The
// overshoot is the call's wall time minus the plugin's timeout, reported
// as p50, p99 and max, on a quiet process ("quiet"), beside a goroutine
// that keeps a processor busy without allocating ("cpu"), and beside one
// that allocates 1 MiB every millisecond, as a daemon serving events does,
// so that the garbage collector's mark phases come one after another
// while a processor is otherwise idle ("gc").
// -benchtime Nx = N looping calls.
func BenchmarkHandleDeadlineOvershoot(b *testing.B) {
	const timeout = 50 * time.Millisecond
	for _, load := range []string{"quiet", "gc", "cpu"} {
		b.Run(load, func(b *testing.B) {
			h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{PrivateDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			s, err := h.Load(context.Background(), wasmscript.Spec{Domain: "loop", Path: fixture(b, "halfloop"), Strict: true,
				Settings: wasmscript.Settings{Instances: 1, Timeout: hook.Duration(timeout)}})
			if err != nil {
				b.Fatal(err)
			}
			stop := background(load)
			defer stop()
			ev := event("1")
			var over []time.Duration
			for b.Loop() {
				for {
					// The engine's wrapper: the attempt's timeout around Handle.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					start := time.Now()
					_, err := s.Handle(ctx, ev)
					d := time.Since(start)
					cancel()
					if err != nil {
						over = append(over, d-timeout)
						break
					}
				}
			}
			reportOvershoot(b, over)
		})
	}
}

// background starts the other work of a benchmark: none, a goroutine that
// spins without allocating, or one that allocates (and drops) 1 MiB in
// 64 KiB pieces every millisecond. It returns the function that stops it.
func background(load string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var sink atomic.Pointer[[]byte]
	switch load {
	case "cpu":
		wg.Go(func() {
			for n := 0; ; n++ {
				if n%1024 == 0 {
					select {
					case <-done:
						return
					default:
					}
				}
			}
		})
	case "gc":
		wg.Go(func() {
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
				}
				for range 16 {
					b := make([]byte, 64<<10)
					sink.Store(&b)
				}
			}
		})
	}
	runtime.Gosched()
	return func() {
		close(done)
		wg.Wait()
	}
}

// reportOvershoot reports the p50, p99 and max of over, in µs.
func reportOvershoot(b *testing.B, over []time.Duration) {
	if len(over) == 0 {
		return
	}
	slices.Sort(over)
	q := func(f float64) float64 {
		return float64(over[min(len(over)-1, int(f*float64(len(over))))].Microseconds())
	}
	b.ReportMetric(q(0.5), "p50-µs-over")
	b.ReportMetric(q(0.99), "p99-µs-over")
	b.ReportMetric(float64(over[len(over)-1].Microseconds()), "max-µs-over")
}

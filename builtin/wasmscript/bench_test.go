package wasmscript_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/timingtest"
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
			stop := timingtest.Background(load)
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
			timingtest.ReportOvershoot(b, over)
		})
	}
}

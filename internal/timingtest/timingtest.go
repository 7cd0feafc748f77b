// Package timingtest holds the helpers of hookd's tests and benchmarks
// about time: how long after its deadline a call is stopped, measured
// with or without other work running, and a bound on a call that must be
// stopped, so that a test fails instead of hanging when it is not.
//
// The deadline benchmarks of internal/wasmhost (the engine),
// builtin/wasmscript (a script's Handle) and builtin/httpevents (the
// daemon's path) report their overshoot the same way through it, so that
// their figures compare in docs/benchmarks.md.
package timingtest

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// StopBound is how long [Stops] waits for a call that should be stopped:
// far beyond any deadline a test sets, so that only a call that is never
// stopped fails, however loaded the machine.
const StopBound = 30 * time.Second

// Stops runs f, a call expected to be stopped (by a deadline, a
// cancellation, a Close), and returns how long it ran; it fails t if f
// has not returned within [StopBound].
func Stops(t testing.TB, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(StopBound):
		t.Fatalf("%s: still running after %s: not stopped", what, StopBound)
		return 0
	}
}

// ReportOvershoot reports the p50, p99 and max of over (how long after
// their deadline calls were stopped) as the benchmark's metrics
// p50-µs-over, p99-µs-over and max-µs-over.
func ReportOvershoot(b *testing.B, over []time.Duration) {
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

// Background starts the other work of a benchmark: none ("quiet"), a
// goroutine that spins without allocating ("cpu"), or one that allocates
// (and drops) 1 MiB in 64 KiB pieces every millisecond, so that the
// garbage collector's mark phases come one after another ("gc"). It
// returns the function that stops it.
func Background(load string) (stop func()) {
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

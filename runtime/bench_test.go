package runtime_test

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// reportLatency adds p50 and p99 of ds to b's metrics.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkEmit measures committing events on SQLite (one target wants
// each, so each event is an event row, a delivery row and a River job):
// one transaction per event, 16 concurrent callers sharing transactions
// (group commit), and batches of 100 per transaction; under each of
// [store] synchronous = "normal" and "full", whose cost is a sync to disk
// per commit.
func BenchmarkEmit(b *testing.B) {
	for _, mode := range []string{"full", "normal"} {
		b.Run("sqlite-"+mode+"/concurrent16", func(b *testing.B) { benchEmitConcurrent(b, mode) })
		for _, batch := range []int{1, 100} {
			name := map[int]string{1: "single", 100: "batch100"}[batch]
			b.Run("sqlite-"+mode+"/"+name, func(b *testing.B) { benchEmitBatch(b, mode, batch) })
		}
	}
}

// emitRuntime opens a runtime without workers on a new SQLite file.
func emitRuntime(b *testing.B, mode string) *hookrt.Runtime {
	nop := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
	cfg := testConfig(storetest.SQLite(b))
	cfg.Store.Synchronous = mode
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithoutWorkers(),
		hookrt.WithTarget(hook.Target{Name: "t", Handler: nop}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// benchEmitBatch: one caller, batch events per transaction.
func benchEmitBatch(b *testing.B, mode string, batch int) {
	rt := emitRuntime(b, mode)
	ctx := context.Background()
	events := make([]map[string]string, batch)
	for i := range events {
		events[i] = userCreate(i)
	}
	lat := make([]time.Duration, 0, b.N/batch+1)
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += batch {
		t0 := time.Now()
		if _, err := rt.EmitMany(ctx, events); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	n := (b.N + batch - 1) / batch * batch
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	reportLatency(b, lat)
}

// benchEmitConcurrent: 16 goroutines calling Emit at once, as proxy
// threads do; group commit shares their transactions.
func benchEmitConcurrent(b *testing.B, mode string) {
	rt := emitRuntime(b, mode)
	var (
		mu   sync.Mutex
		lat  []time.Duration
		next atomic.Int64
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := userCreate(g)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if _, err := rt.Emit(context.Background(), ev); err != nil {
					panic(err)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	reportLatency(b, lat)
}

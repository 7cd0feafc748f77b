package engine_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
)

// BenchmarkDiskPerEvent measures what the SQLite store holds per event
// delivered once (an ISL NEWSESSION event of about 300 bytes, one target,
// one attempt): the file and its write-ahead log after a checkpoint, with
// the history kept, and what the same events take once pruned (the space
// is free for new events; SQLite does not shrink its file). Run with
// -benchtime 20000x: bytes per event × 10^6 is the disk per million
// events kept.
func BenchmarkDiskPerEvent(b *testing.B) {
	st := storetest.SQLite(b)
	obs := hooktest.NewObservations()
	nop := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Status: 200, Summary: "nomessage"}, nil
	})
	d := fast()
	d.Workers = 100
	e, err := engine.Open(context.Background(), engine.Options{
		Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path}, Delivery: d, ServerID: "conf-proxy-1.example.com",
		Targets: []hook.Target{{Name: "http_events.global", Handler: nop}}, Observer: obs.Observe,
		Retention: engine.RetentionOptions{Keep: time.Hour, Dead: time.Hour, Idempotency: time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	size := func() int64 {
		if err := e.DB().Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(st.Path + suffix); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	empty := size()
	b.ResetTimer()
	const batch = 500
	for done := 0; done < b.N; done += batch {
		evs := make([]map[string]string, min(batch, b.N-done))
		for i := range evs {
			evs[i] = map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "acme",
				"SESSIONID": fmt.Sprint(done + i), "CPUSER_ID": "42", "USER": "anna.svensson@example.com",
				"reasonAddress": "203.0.113.42", "PRODUCT": "ISL Light 5.2", "DESK": "Support desk / Ljubljana"}
		}
		if _, err := e.EmitMany(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	obs.Wait(b, "every event delivered", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "") >= b.N })
	b.StopTimer()
	kept := size()
	pruned, err := e.Prune(ctx, time.Now().Add(2*time.Hour))
	if err != nil || pruned != b.N {
		b.Fatalf("pruned %d of %d: %v", pruned, b.N, err)
	}
	file := size()
	// Pages in use: the file keeps its size, the freed pages take new events.
	var pages, free, pageSize int64
	db := e.DB().SQL()
	for q, dst := range map[string]*int64{"page_count": &pages, "freelist_count": &free, "page_size": &pageSize} {
		if err := db.QueryRowContext(ctx, "PRAGMA "+q).Scan(dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(kept-empty)/float64(b.N), "bytes/event-kept")
	b.ReportMetric(float64((pages-free)*pageSize-empty)/float64(b.N), "bytes/event-in-use-after-prune")
	b.ReportMetric(float64(file)/1e6, "MB-file-after-prune")
}

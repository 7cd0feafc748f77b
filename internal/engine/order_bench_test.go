package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// BenchmarkOrdered measures what order per key costs in throughput: b.N
// events emitted in batches of 500 and delivered once to a receiver that
// answers at once, unordered (the direct path) and ordered by SESSIONID
// over 50 keys and over 1 key (every delivery behind the one before), on
// each store. It reports events/s from the first emit to the last
// delivery, and the time per event. Run with -benchtime 5000x.
func BenchmarkOrdered(b *testing.B) {
	for _, c := range storetest.All() {
		for _, keys := range []int{0, 50, 1} {
			name := "unordered"
			if keys > 0 {
				name = fmt.Sprintf("ordered-%dkeys", keys)
			}
			b.Run(c.Name+"/"+name, func(b *testing.B) { benchOrdered(b, c.Store(b), keys) })
		}
	}
}

func benchOrdered(b *testing.B, st hookrt.StoreConfig, keys int) {
	obs := hooktest.NewObservations()
	nop := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{Status: 204}, nil })
	tgt := hook.Target{Name: "http_events.global", Handler: nop}
	if keys > 0 {
		tgt.Delivery = &hook.DeliverySettings{OrderedBy: "SESSIONID"}
	}
	d := fast()
	d.Workers = 16
	e, err := engine.Open(context.Background(), engine.Options{
		Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN}, Delivery: d, ServerID: "bench",
		Targets: []hook.Target{tgt}, Observer: obs.Observe,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	const batch = 500
	for done := 0; done < b.N; done += batch {
		evs := make([]map[string]string, min(batch, b.N-done))
		for i := range evs {
			evs[i] = map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "MESSAGE", "SESSIONID": fmt.Sprint((done + i) % max(keys, 1000))}
		}
		if _, err := e.EmitMany(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	obs.Wait(b, "every event delivered", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "") >= b.N })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

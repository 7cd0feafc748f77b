package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The burst queue's metrics (memqueue.go, metrics.go): how many
// deliveries wait in memory, how many came there, and how many left it
// for River, by reason, each by target kind.

// openQueued opens an engine with the burst queue's test slots
// (queueOpts) and its metrics in reg, closed when t ends.
func openQueued(t *testing.T, st hookrt.StoreConfig, reg testRegistry, obs *hooktest.Observations, targets ...hook.Target) *engine.Engine {
	t.Helper()
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: queueOpts(), ServerID: "test", Observer: obs.Observe,
		Targets: targets, Metrics: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	return e
}

// value is the value of the series of family name whose labels include
// every one of want ("target_kind=a", "reason=aged"); -1 when none has.
func (r testRegistry) value(name string, want ...string) float64 {
	for _, m := range r.family(name) {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for _, w := range want {
			k, v, _ := strings.Cut(w, "=")
			ok = ok && have[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

// lint fails t if promlint (what `promtool check metrics` runs) finds
// fault with any of the engine's metric families.
func (r testRegistry) lint(t *testing.T) {
	t.Helper()
	problems, err := promlint.NewWithMetricFamilies(must(r.Gather())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestBurstQueueGaugeDrains: while a target's two slots are held, a burst
// of 6 waits in memory and hookd_burst_queue_deliveries says 6 for its
// kind (the store's pending count includes them; River has no job for
// them); once the slots free, the queue drains from memory and the gauge
// returns to 0, with every delivery counted in hookd_burst_queued_total
// and none handed to River (the handover series exist, at 0).
func TestBurstQueueGaugeDrains(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		reg := newTestRegistry()
		c := newCalls()
		obs := hooktest.NewObservations()
		e := openQueued(t, st, reg, obs, hook.Target{Name: "a", Handler: c})
		blocked := emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
		for range 2 {
			<-c.held
		}
		ids := emitBurst(t, e, 6, nil)
		waitCond(t, "hookd_burst_queue_deliveries{target_kind=a} = 6", func() bool {
			return reg.value("hookd_burst_queue_deliveries", "target_kind=a") == 6
		})
		if v := reg.value("hookd_burst_queued_total", "target_kind=a"); v != 6 {
			t.Errorf("hookd_burst_queued_total{target_kind=a} = %v while 6 wait; want 6", v)
		}
		close(c.block)
		obs.Wait(t, "every delivery delivered", func(o []hook.Observation) bool {
			return hooktest.Count(o, hook.StateDelivered, "a") >= 8
		})
		c.once(t, append(blocked, ids...))
		waitCond(t, "hookd_burst_queue_deliveries{target_kind=a} = 0", func() bool {
			return reg.value("hookd_burst_queue_deliveries", "target_kind=a") == 0
		})
		for _, why := range []string{"aged", "stop", "target_replaced"} {
			// -1: no series; a dashboard would show no data, not 0.
			if v := reg.value("hookd_burst_queue_to_river_total", "target_kind=a", "reason="+why); v != 0 {
				t.Errorf("hookd_burst_queue_to_river_total{target_kind=a,reason=%s} = %v; want a series at 0: the queue drained from memory", why, v)
			}
		}
		if v := reg.value("hookd_burst_queued_total", "target_kind=a"); v != 6 {
			t.Errorf("hookd_burst_queued_total{target_kind=a} = %v; want 6 (the two taken at once never queued)", v)
		}
		reg.lint(t)
	})
}

// TestBurstQueueAgedCounted: queued deliveries that wait past the queue's
// age bound are counted, as they get their River jobs, in
// hookd_burst_queue_to_river_total{reason="aged"}, and leave the gauge.
func TestBurstQueueAgedCounted(t *testing.T) {
	reg := newTestRegistry()
	c := newCalls()
	obs := hooktest.NewObservations()
	e := openQueued(t, storetest.SQLite(t), reg, obs, hook.Target{Name: "a", Handler: c})
	engine.SetQueueBounds(e, 100, 50*time.Millisecond)
	blocked := emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
	for range 2 {
		<-c.held
	}
	ids := emitBurst(t, e, 5, nil)
	waitCond(t, "hookd_burst_queue_to_river_total{reason=aged} = 5", func() bool {
		return reg.value("hookd_burst_queue_to_river_total", "target_kind=a", "reason=aged") == 5
	})
	if n := count(t, e, deliveryJobs); n != 5 {
		t.Errorf("%d River jobs once 5 were counted as handed over; want 5", n)
	}
	if v := reg.value("hookd_burst_queue_deliveries", "target_kind=a"); v != 0 {
		t.Errorf("hookd_burst_queue_deliveries{target_kind=a} = %v after the handover; want 0", v)
	}
	if v := reg.value("hookd_burst_queue_to_river_total", "reason=stop"); v > 0 {
		t.Errorf("hookd_burst_queue_to_river_total{reason=stop} = %v before any stop", v)
	}
	close(c.block)
	obs.Wait(t, "every delivery delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") >= 7
	})
	c.once(t, append(blocked, ids...))
	reg.lint(t)
}

// TestBurstQueueStopCounted: deliveries still queued at a stop are
// counted in hookd_burst_queue_to_river_total{reason="stop"} when the
// stop gives them their River jobs, and leave the gauge.
func TestBurstQueueStopCounted(t *testing.T) {
	reg := newTestRegistry()
	c := newCalls()
	obs := hooktest.NewObservations()
	e := openQueued(t, storetest.SQLite(t), reg, obs, hook.Target{Name: "a", Handler: c})
	emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
	for range 2 {
		<-c.held
	}
	emitBurst(t, e, 5, nil)
	waitCond(t, "5 deliveries on the queue", func() bool {
		return reg.value("hookd_burst_queue_deliveries", "target_kind=a") == 5
	})
	closed := make(chan error, 1)
	go func() { closed <- e.Close(context.Background()) }()
	waitCond(t, "hookd_burst_queue_to_river_total{reason=stop} = 5", func() bool {
		return reg.value("hookd_burst_queue_to_river_total", "target_kind=a", "reason=stop") == 5
	})
	if n := count(t, e, deliveryJobs); n != 5 {
		t.Errorf("%d River jobs once 5 were counted as handed over at the stop; want 5", n)
	}
	if v := reg.value("hookd_burst_queue_deliveries", "target_kind=a"); v != 0 {
		t.Errorf("hookd_burst_queue_deliveries{target_kind=a} = %v after the stop's handover; want 0", v)
	}
	if v := reg.value("hookd_burst_queue_to_river_total", "reason=aged"); v > 0 {
		t.Errorf("hookd_burst_queue_to_river_total{reason=aged} = %v; want none aged", v)
	}
	close(c.block)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	reg.lint(t)
}

// TestBurstQueueReplacedCounted: deliveries queued for a target that is
// replaced meanwhile (SetTargets) are handed to River when a slot next
// looks at them, counted as reason="target_replaced", and delivered once
// each by the successor.
func TestBurstQueueReplacedCounted(t *testing.T) {
	reg := newTestRegistry()
	c := newCalls()
	obs := hooktest.NewObservations()
	e := openQueued(t, storetest.SQLite(t), reg, obs, hook.Target{Name: "a", Handler: c})
	emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
	for range 2 {
		<-c.held
	}
	ids := emitBurst(t, e, 5, nil)
	waitCond(t, "5 deliveries on the queue", func() bool {
		return reg.value("hookd_burst_queue_deliveries", "target_kind=a") == 5
	})
	next := newCalls()
	replaced := make(chan error, 1)
	go func() { replaced <- e.SetTargets(context.Background(), []hook.Target{{Name: "a", Handler: next}}, nil) }()
	// SetTargets retires the old target right after the swap, and then
	// waits for its two held attempts: the swap seen, the slots may end.
	waitCond(t, "the successor of a in the set", func() bool {
		h, _ := e.Handler("a")
		return h == hook.Handler(next)
	})
	close(c.block)
	if err := <-replaced; err != nil {
		t.Fatal(err)
	}
	waitCond(t, "hookd_burst_queue_to_river_total{reason=target_replaced} = 5", func() bool {
		return reg.value("hookd_burst_queue_to_river_total", "target_kind=a", "reason=target_replaced") == 5
	})
	obs.Wait(t, "every delivery delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") >= 7
	})
	next.once(t, ids)
	if v := reg.value("hookd_burst_queue_deliveries", "target_kind=a"); v != 0 {
		t.Errorf("hookd_burst_queue_deliveries{target_kind=a} = %v; want 0", v)
	}
	reg.lint(t)
}

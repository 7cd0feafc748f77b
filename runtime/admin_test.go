package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestStats: the runtime counts the outcomes of its deliveries per second
// (what the admin page's chart draws) before any observer of the caller's
// hears of them.
func TestStats(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		obs := newObservations()
		ok := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			return hook.Result{Status: 200, Latency: 3 * time.Millisecond}, nil
		})
		fail := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			return hook.Result{Status: 500, Latency: 40 * time.Millisecond}, hook.Permanent(errors.New("HTTP 500"))
		})
		rt := open(t, testConfig(st), hookrt.WithObserver(obs.observe),
			hookrt.WithTarget(hook.Target{Name: "ok", Handler: ok}),
			hookrt.WithTarget(hook.Target{Name: "fail", Handler: fail}))
		before := time.Now()
		for i := range 3 {
			if _, err := rt.Emit(context.Background(), userCreate(i)); err != nil {
				t.Fatal(err)
			}
		}
		obs.wait(t, "3 delivered and 3 dead", func(o []hook.Observation) bool {
			return count("delivered", "ok")(o) == 3 && count("dead", "fail")(o) == 3
		})
		s := rt.Stats()
		if s.Interval != time.Second || len(s.Buckets) != hookrt.StatsWindow {
			t.Fatalf("interval %s, %d buckets; want 1s and %d", s.Interval, len(s.Buckets), hookrt.StatsWindow)
		}
		var delivered, failed, dead int
		var p99 time.Duration
		for i, b := range s.Buckets {
			if i > 0 && b.Start.Sub(s.Buckets[i-1].Start) != time.Second {
				t.Fatalf("bucket %d starts at %s, after %s", i, b.Start, s.Buckets[i-1].Start)
			}
			delivered += b.Delivered
			failed += b.Failed
			dead += b.Dead
			p99 = max(p99, b.P99)
			if b.Delivered+b.Failed > 0 && (b.P50 < 2*time.Millisecond || b.P50 > 45*time.Millisecond) {
				t.Errorf("bucket %s: p50 %s; want 3ms or 40ms, within 10%%", b.Start, b.P50)
			}
		}
		if delivered != 3 || failed != 3 || dead != 3 {
			t.Errorf("delivered %d, failed %d, dead %d; want 3 each", delivered, failed, dead)
		}
		if p99 < 36*time.Millisecond || p99 > 44*time.Millisecond {
			t.Errorf("largest p99 %s; want 40ms within 10%%", p99)
		}
		last := s.Buckets[len(s.Buckets)-1].Start
		if last.Before(before.Truncate(time.Second)) || last.After(time.Now()) {
			t.Errorf("the last bucket starts at %s; want the current second", last)
		}
		if ps := rt.Plugins(); len(ps) != 0 {
			t.Errorf("plugins of a runtime without any: %+v", ps)
		}
	})
}

package engine

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TestRateLimitShare: the limit and the burst are divided between the
// nodes (the burst at least 1), the view says so, and deferred attempts
// get successive slots at the node's rate instead of all the same delay.
func TestRateLimitShare(t *testing.T) {
	if newRateLimit(nil, 1) != nil || newRateLimit(&hook.DeliverySettings{Burst: 3}, 1) != nil {
		t.Fatal("a limiter without a rate limit")
	}
	r := newRateLimit(&hook.DeliverySettings{RateLimit: 50, Burst: 10}, 1)
	if got := r.shareNote(); got != "" {
		t.Errorf("one node: %q; want nothing", got)
	}
	r.share(2)
	if got, want := r.shareNote(), ": 25/s, burst 5 on this node of 2"; got != want {
		t.Errorf("two nodes: %q; want %q", got, want)
	}
	if r.lim.Limit() != 25 || r.lim.Burst() != 5 {
		t.Errorf("two nodes: limiter %v/s burst %d; want 25/s burst 5", r.lim.Limit(), r.lim.Burst())
	}
	r.share(20)
	if r.lim.Burst() != 1 || r.lim.Limit() != 2.5 {
		t.Errorf("twenty nodes: limiter %v/s burst %d; want 2.5/s burst 1", r.lim.Limit(), r.lim.Burst())
	}
	r.share(0) // a failed count is one node, never a division by zero
	if r.lim.Limit() != 50 {
		t.Errorf("zero nodes: limiter %v/s; want 50/s", r.lim.Limit())
	}

	// 1/s, burst 1: the first goes, the second waits a second in place,
	// the third and later are deferred a second apart.
	r = newRateLimit(&hook.DeliverySettings{RateLimit: 1}, 1)
	now := time.Now()
	var got []time.Duration
	for range 5 {
		d, deferred := r.reserve(now, 0)
		if deferred != (d > maxRateWait) {
			t.Fatalf("delay %s deferred=%v; want deferred exactly above %s", d, deferred, maxRateWait)
		}
		got = append(got, d)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
	for i := range want {
		if got[i] < want[i]-time.Millisecond || got[i] > want[i]+time.Millisecond {
			t.Fatalf("delays %v; want %v", got, want)
		}
	}
	// The deferred ones gave their tokens back: at the third's slot a
	// token is there for it, not taken by the deferrals.
	if d, _ := r.reserve(now.Add(2*time.Second), 0); d > time.Millisecond {
		t.Errorf("at the first deferred slot the limiter asks a wait of %s; want none", d)
	}

	// A target whose in-flight cap lets waiters wait in place: deferred
	// jobs come back before their slot by the time half the cap's waiters
	// take at the rate, at most maxRateLead.
	for _, c := range []struct {
		perSecond float64
		inflight  int64
		lead      time.Duration
	}{{1, 4, maxRateLead}, {50, 4, 40 * time.Millisecond}, {50, 250, maxRateLead}} {
		r = newRateLimit(&hook.DeliverySettings{RateLimit: c.perSecond}, 1)
		var slot time.Duration
		for {
			d, deferred := r.reserve(now, c.inflight)
			if deferred {
				slot = d
				break
			}
		}
		// The first deferred job's own reservation was due just past
		// maxRateWait, so its slot is there, less the lead.
		interval := time.Duration(float64(time.Second) / c.perSecond)
		if want := maxRateWait + interval - c.lead; slot < want-time.Millisecond || slot > want+time.Millisecond {
			t.Errorf("%v/s, in-flight cap %d: the first deferred job comes back after %s; want %s (its slot less a lead of %s)",
				c.perSecond, c.inflight, slot, want, c.lead)
		}
	}
}

// BenchmarkRateAdmission is what the rate limit adds to an attempt:
// "free" a limit never reached (a reservation), "deferred" one always
// reached (a reservation given back, a slot, the metrics), both from
// every core at once on one target.
func BenchmarkRateAdmission(b *testing.B) {
	m, err := newEngineMetrics(nil)
	if err != nil {
		b.Fatal(err)
	}
	e := &Engine{metrics: m}
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		limit float64
		burst int
		want  bool // deferred
	}{{"free", 1e12, 1 << 30, false}, {"deferred", 0.5, 1, true}} {
		b.Run(c.name, func(b *testing.B) {
			t := &target{Target: hook.Target{Name: "t"}, rate: newRateLimit(&hook.DeliverySettings{RateLimit: c.limit, Burst: c.burst}, 1)}
			e.admitRate(ctx, t) // the deferred case's one token
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if wait, _ := e.admitRate(ctx, t); (wait > 0) != c.want {
						b.Fatalf("wait %s", wait)
					}
				}
			})
		})
	}
}

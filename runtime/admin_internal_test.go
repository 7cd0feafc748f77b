package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TestStatsRing: outcomes land in the bucket of their second, old seconds
// fall out of the window, and the quantiles come from the histogram.
func TestStatsRing(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s := newStats(func() time.Time { return now })
	ctx := context.Background()
	ok := func(d time.Duration) hook.Observation {
		return hook.Observation{State: hook.StateDelivered, Latency: d}
	}
	for i := 1; i <= 100; i++ {
		s.observe(ctx, ok(time.Duration(i)*time.Millisecond))
	}
	s.observe(ctx, hook.Observation{State: hook.StateRetrying, Err: errFake, Latency: time.Second})
	s.observe(ctx, hook.Observation{State: hook.StateDead, Reason: "older than the maximum age"}) // no attempt

	now = now.Add(StatsWindow * time.Second) // the first second is about to fall out
	s.observe(ctx, ok(5*time.Millisecond))
	snap := s.snapshot()
	if n := len(snap.Buckets); n != StatsWindow {
		t.Fatalf("%d buckets", n)
	}
	if b := snap.Buckets[len(snap.Buckets)-1]; b.Delivered != 1 || b.P50 < 4500*time.Microsecond || b.P50 > 5500*time.Microsecond {
		t.Errorf("current second: %+v", b)
	}
	for _, b := range snap.Buckets[:len(snap.Buckets)-1] {
		if b.Delivered+b.Failed+b.Dead != 0 {
			t.Errorf("a second out of the window is still counted: %+v", b)
		}
	}

	now = time.Unix(1_800_000_000, 0)
	s = newStats(func() time.Time { return now })
	for i := 1; i <= 100; i++ {
		s.observe(ctx, ok(time.Duration(i)*time.Millisecond))
	}
	s.observe(ctx, hook.Observation{State: hook.StateRetrying, Err: errFake, Latency: time.Second})
	s.observe(ctx, hook.Observation{State: hook.StateDead, Reason: "older than the maximum age"})
	b := s.snapshot().Buckets[StatsWindow-1]
	if b.Delivered != 100 || b.Failed != 1 || b.Dead != 1 {
		t.Errorf("counts: %+v", b)
	}
	within := func(got, want time.Duration) bool { return got >= want*9/10 && got <= want*11/10 }
	if !within(b.P50, 50*time.Millisecond) || !within(b.P99, 100*time.Millisecond) {
		t.Errorf("p50 %s p99 %s; want 50ms and 100ms within 10%%", b.P50, b.P99)
	}
}

func TestHistBin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {time.Microsecond, 0}, {histBase, 0}, {2 * histBase, histPerOctave},
		{4 * histBase, 2 * histPerOctave}, {time.Hour, histBins - 1},
	} {
		if got := histBin(tc.d); got != tc.want {
			t.Errorf("histBin(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
	for i := range histBins - 1 {
		if m := binMiddle(i); histBin(m) != i {
			t.Errorf("the middle of bin %d, %s, falls in bin %d", i, m, histBin(m))
		}
	}
	var empty [histBins]uint32
	if q := quantile(&empty, 0.5); q != 0 {
		t.Errorf("quantile of nothing: %s", q)
	}
}

var errFake = fakeError("HTTP 500")

type fakeError string

func (e fakeError) Error() string { return string(e) }

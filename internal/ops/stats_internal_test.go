package ops

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TestStatsRing: outcomes land in the bucket of their second, old seconds
// fall out of the window, and the quantiles come from the histogram.
func TestStatsRing(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s := NewRecorder(func() time.Time { return now })
	ctx := context.Background()
	ok := func(d time.Duration) hook.Observation {
		return hook.Observation{State: hook.StateDelivered, Latency: d}
	}
	failed := hook.Observation{State: hook.StateRetrying, Err: errors.New("HTTP 500"), Latency: time.Second}
	dead := hook.Observation{State: hook.StateDead, Reason: "older than the maximum age"} // no attempt
	for i := 1; i <= 100; i++ {
		s.Observe(ctx, ok(time.Duration(i)*time.Millisecond))
	}
	s.Observe(ctx, failed)
	s.Observe(ctx, dead)
	b := s.Snapshot().Buckets[StatsWindow-1]
	if b.Delivered != 100 || b.Failed != 1 || b.Dead != 1 {
		t.Errorf("counts: %+v", b)
	}
	within := func(got, want time.Duration) bool { return got >= want*9/10 && got <= want*11/10 }
	if !within(b.P50, 50*time.Millisecond) || !within(b.P99, 100*time.Millisecond) {
		t.Errorf("p50 %s p99 %s; want 50ms and 100ms within 10%%", b.P50, b.P99)
	}
	sum := Summarize(s.Snapshot())
	if sum.Seconds != StatsWindow || sum.Delivered != 100 || sum.Failed != 1 || sum.Dead != 1 || sum.Rate != "1.7" {
		t.Errorf("summary %+v", sum)
	}
	ch := Chart(s.Snapshot())
	if len(ch.Delivered) != StatsWindow || ch.Delivered[StatsWindow-1] != 100 || ch.IntervalMS != 1000 || ch.End != now.UnixMilli() {
		t.Errorf("chart: interval %d end %d last %d", ch.IntervalMS, ch.End, ch.Delivered[StatsWindow-1])
	}

	now = now.Add(StatsWindow * time.Second) // the first second is about to fall out
	s.Observe(ctx, ok(5*time.Millisecond))
	snap := s.Snapshot()
	if b := snap.Buckets[len(snap.Buckets)-1]; b.Delivered != 1 || b.P50 < 4500*time.Microsecond || b.P50 > 5500*time.Microsecond {
		t.Errorf("current second: %+v", b)
	}
	for _, b := range snap.Buckets[:len(snap.Buckets)-1] {
		if b.Delivered+b.Failed+b.Dead != 0 {
			t.Errorf("a second out of the window is still counted: %+v", b)
		}
	}
	if (*Recorder)(nil).Snapshot().Interval != StatsInterval {
		t.Error("a nil recorder has no interval")
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
	if slot(-1) != StatsWindow-1 {
		t.Errorf("slot(-1) = %d", slot(-1))
	}
}

package engine

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestRetryClockCoalesces: a burst of due times within the clock's
// horizon costs one promotion pass, which covers all of them; a due time
// noted later gets a pass of its own.
func TestRetryClockCoalesces(t *testing.T) {
	var (
		mu     sync.Mutex
		passes []time.Time // the until of each pass
		ran    = make(chan struct{}, 16)
	)
	c := startClock(slog.New(slog.DiscardHandler), func(_ context.Context, until time.Time) error {
		mu.Lock()
		passes = append(passes, until)
		mu.Unlock()
		ran <- struct{}{}
		return nil
	})
	defer c.stop()

	start := time.Now()
	var last time.Time
	for i := range 50 {
		last = start.Add(300*time.Millisecond + time.Duration(i)*8*time.Millisecond) // 300–692 ms ahead
		c.note(last)
	}
	await(t, "the pass for the burst", ran)
	mu.Lock()
	if len(passes) != 1 || passes[0].Before(last) {
		t.Errorf("passes %v for due times up to %v; want one covering them all", passes, last)
	}
	mu.Unlock()

	c.note(time.Now().Add(3 * clockHorizon))
	await(t, "the pass for a later due time", ran)
}

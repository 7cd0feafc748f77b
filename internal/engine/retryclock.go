package engine

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
)

// River keeps a job due later in state "scheduled", and only its
// scheduler makes such jobs available to the workers: a pass every 5 s
// (not configurable in River 0.51), run by the leader alone. A retry due
// at 1 s thus started up to 5 s late. (River makes a snooze or an error
// retry of at most those 5 s available at once, with its due time, so
// that the fetcher takes it when due; it does nothing of the kind for a
// job inserted scheduled, which is what the direct path's retries are,
// nor for a longer snooze.)
//
// The retry clock closes the gap. The engine notes the due time of every
// job it schedules (after the transaction that inserts it has committed,
// or when a worker snoozes past River's interval); shortly before the
// earliest one is due, the clock runs River's own scheduler pass
// (riverdriver's JobSchedule) for the jobs due within clockHorizon. They
// become available with their due time kept, and River's fetcher, which
// takes available jobs whose due time has passed, starts each within a
// poll interval of it. Every retry thus starts within jitter +
// poll_interval (+ the time to fetch) of its schedule.
//
// The cost is one pass (one statement on PostgreSQL, a short transaction
// on SQLite) per clockHorizon - clockLead at most while retries are
// pending (more only with schedules shorter than clockLead, then at most
// one per clockMinGap), and none while no retry is. River's own 5 s
// scheduler still runs: it is the fallback for a due time this node did
// not note (another node's, or one whose pass failed).
const (
	clockHorizon = time.Second            // a pass covers the jobs due within this
	clockLead    = 250 * time.Millisecond // a pass runs this much before the earliest due time
	clockMinGap  = 20 * time.Millisecond  // between two passes
	clockBackoff = time.Second            // after a failed pass
	// riverSnoozeAvailable is River's scheduler interval: a snooze no
	// longer than this is made available at once by River itself.
	riverSnoozeAvailable = 5 * time.Second
)

// retryClock runs promotion passes when noted due times come near.
type retryClock struct {
	promote func(ctx context.Context, until time.Time) error
	log     *slog.Logger

	mu   sync.Mutex
	due  timeHeap
	kick chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startClock starts the clock's loop; promote makes the jobs due by until
// available.
func startClock(log *slog.Logger, promote func(ctx context.Context, until time.Time) error) *retryClock {
	ctx, cancel := context.WithCancel(context.Background())
	c := &retryClock{promote: promote, log: log, kick: make(chan struct{}, 1), cancel: cancel}
	c.wg.Go(func() { c.run(ctx) })
	return c
}

// note says a job becomes due at at. A nil clock (no workers) ignores it.
func (c *retryClock) note(at time.Time) {
	if c == nil || at.IsZero() {
		return
	}
	c.mu.Lock()
	first := len(c.due) == 0 || at.Before(c.due[0])
	heap.Push(&c.due, at)
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// noteJobs notes the jobs of a committed transaction that are due later.
func (c *retryClock) noteJobs(jobs []job) {
	for _, j := range jobs {
		if !j.at.IsZero() {
			c.note(j.at)
		}
	}
}

// noteSnooze notes a River job snoozed for d from now, if River itself
// does not make it available at once.
func (c *retryClock) noteSnooze(d time.Duration) {
	if d > riverSnoozeAvailable {
		c.note(time.Now().Add(d))
	}
}

func (c *retryClock) run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var last time.Time
	for {
		c.mu.Lock()
		wait := time.Hour
		if len(c.due) > 0 {
			fire := c.due[0].Add(-clockLead)
			if !last.IsZero() {
				fire = latest(fire, last.Add(clockMinGap))
			}
			wait = time.Until(fire)
		}
		c.mu.Unlock()
		t.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
			t.Stop() // Go 1.23 timers: no stale tick to drain
			continue
		case <-t.C:
		}
		last = time.Now()
		until := last.Add(clockHorizon)
		c.mu.Lock()
		var taken []time.Time
		for len(c.due) > 0 && !c.due[0].After(until) {
			taken = append(taken, heap.Pop(&c.due).(time.Time))
		}
		c.mu.Unlock()
		if len(taken) == 0 {
			continue
		}
		if err := c.promote(ctx, until); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.DebugContext(ctx, "making due retries available failed; River's scheduler takes them within 5 s", slog.Any("error", err))
			last = last.Add(clockBackoff) // the next pass, no sooner
		}
	}
}

// stop ends the loop; a nil clock is a no-op.
func (c *retryClock) stop() {
	if c == nil {
		return
	}
	c.cancel()
	c.wg.Wait()
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// timeHeap is a min-heap of times.
type timeHeap []time.Time

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *timeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

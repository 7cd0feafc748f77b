package engine

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
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
// poll interval of it. Every retry thus starts within poll_interval of the
// due time recorded with its failure (which includes the jitter), given
// two more things:
//
//   - River waits FetchPollInterval plus a random max(1/10 of it, 10 ms)
//     between polls, so FetchPollInterval = poll_interval made retries up
//     to 60 ms late at the default 50 ms, plus the fetch and the job's
//     start. riverFetchInterval gives River the interval whose longest gap
//     is 9/10 of poll_interval, leaving the rest to the fetch and the
//     start.
//   - On PostgreSQL the clock also wakes River's fetchers at each due time
//     (a NOTIFY on River's insert topic, coalesced by clockMinGap), so a
//     retry starts a few milliseconds after its due time rather than
//     anywhere in a poll interval. SQLite has no such wake (River's SQLite
//     notifications are themselves a table polled every 50 ms): there the
//     poll bounds it.
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

// riverFetchInterval is River's FetchPollInterval for a poll_interval of
// p: River waits that plus a random max(1/10 of it, 10 ms) between two
// polls, and the longest such wait should be 9/10 of p, so that a job due
// just after a poll is fetched and started within p. The floor is River's
// FetchCooldown as hookd sets it (min(p, 10 ms)): at a poll_interval under
// about 22 ms, the longest gap is 20 ms.
func riverFetchInterval(p time.Duration) time.Duration {
	gap := p * 9 / 10
	var f time.Duration
	if gap >= 110*time.Millisecond { // River's jitter is a tenth of f
		f = gap * 10 / 11
	} else { // River's jitter is its 10 ms floor
		f = gap - 10*time.Millisecond
	}
	return max(f, min(p, 10*time.Millisecond))
}

// riverFetchCooldown is River's FetchCooldown for a poll_interval of p:
// the shortest time between two fetches.
func riverFetchCooldown(p time.Duration) time.Duration { return min(p, 10*time.Millisecond) }

// retryClock runs promotion passes when noted due times come near, and
// wakes River's fetchers when they are due (if it has a wake).
type retryClock struct {
	promote func(ctx context.Context, until time.Time) error
	wake    func(ctx context.Context) error // nil: River's poll alone
	log     *slog.Logger

	mu    sync.Mutex
	due   timeHeap // to promote
	wakes timeHeap // promoted, to wake the fetchers at
	kick  chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startClock starts the clock's loop; promote makes the jobs due by until
// available.
func startClock(log *slog.Logger, promote func(ctx context.Context, until time.Time) error) *retryClock {
	return startClockWake(log, promote, nil)
}

// startClockWake is startClock with wake, which has River's fetchers look
// for available jobs at once; the clock calls it when promoted jobs are
// due. A nil wake leaves them to River's poll.
func startClockWake(log *slog.Logger, promote func(ctx context.Context, until time.Time) error, wake func(ctx context.Context) error) *retryClock {
	ctx, cancel := context.WithCancel(context.Background())
	c := &retryClock{promote: promote, wake: wake, log: log, kick: make(chan struct{}, 1), cancel: cancel}
	c.wg.Go(func() { c.run(ctx) })
	return c
}

// clockFor starts the retry clock of q: with a wake on PostgreSQL (a
// NOTIFY reaches every node's fetchers at once), without on SQLite (River
// polls its notification table no faster than it polls for jobs).
func clockFor(log *slog.Logger, q jobQueue) *retryClock {
	if w, ok := q.(waker); ok {
		return startClockWake(log, q.promote, w.wakeFunc())
	}
	return startClock(log, q.promote)
}

// waker is a jobQueue whose clock can wake River's fetchers.
type waker interface {
	wakeFunc() func(context.Context) error
}

// wakeFunc returns the wake of the retry clock for q's database, nil if
// it has none worth its statement.
func (q *riverQueue[TTx]) wakeFunc() func(context.Context) error {
	if q.drv.DatabaseName() != riverdriver.DatabaseNamePostgres {
		return nil
	}
	return q.wake
}

// wakePayload is River's insert notification for the queue hookd uses.
var wakePayload = []string{`{"queue":"` + river.QueueDefault + `"}`}

// wake sends the notification River sends for a job inserted available
// (topic river_insert), on which each node's producer fetches at once.
func (q *riverQueue[TTx]) wake(ctx context.Context) error {
	return q.exec.NotifyMany(ctx, &riverdriver.NotifyManyParams{Topic: "river_insert", Payload: wakePayload})
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
	var last, lastWake time.Time
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
		if len(c.wakes) > 0 {
			fire := c.wakes[0]
			if !lastWake.IsZero() {
				fire = latest(fire, lastWake.Add(clockMinGap))
			}
			wait = min(wait, time.Until(fire))
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
		now := time.Now()
		if c.wakeDue(now, lastWake) {
			lastWake = now
			if err := c.wake(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.DebugContext(ctx, "waking the workers for due retries failed; they poll for them", slog.Any("error", err))
			}
		}
		if !last.IsZero() && now.Before(last.Add(clockMinGap)) {
			continue
		}
		until := now.Add(clockHorizon)
		c.mu.Lock()
		var taken []time.Time
		if len(c.due) > 0 && !c.due[0].Add(-clockLead).After(now) {
			for len(c.due) > 0 && !c.due[0].After(until) {
				taken = append(taken, heap.Pop(&c.due).(time.Time))
			}
		}
		c.mu.Unlock()
		if len(taken) == 0 {
			continue
		}
		last = now
		if err := c.promote(ctx, until); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.DebugContext(ctx, "making due retries available failed; River's scheduler takes them within 5 s", slog.Any("error", err))
			last = last.Add(clockBackoff) // the next pass, no sooner
			continue
		}
		if c.wake != nil {
			c.mu.Lock()
			for _, at := range taken {
				heap.Push(&c.wakes, at)
			}
			c.mu.Unlock()
		}
	}
}

// wakeDue takes the wakes due by now, if the last was clockMinGap ago,
// and says whether there were any.
func (c *retryClock) wakeDue(now, lastWake time.Time) bool {
	if c.wake == nil || (!lastWake.IsZero() && now.Before(lastWake.Add(clockMinGap))) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for len(c.wakes) > 0 && !c.wakes[0].After(now) {
		heap.Pop(&c.wakes)
		n++
	}
	return n > 0
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

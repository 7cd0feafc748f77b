package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestRiverFetchInterval: the longest wait River makes between two polls
// (FetchPollInterval + a random max(1/10 of it, 10 ms)) is at most 9/10
// of poll_interval, so that a due job is fetched and started within
// poll_interval; River's own rules hold (at least FetchCooldown). Until
// the retry clock, River was given poll_interval itself: 50 ms meant
// gaps of up to 60 ms.
func TestRiverFetchInterval(t *testing.T) {
	for _, p := range []time.Duration{10 * time.Millisecond, 22 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 123 * time.Millisecond, 200 * time.Millisecond, time.Second, 10 * time.Second} {
		f, cool := riverFetchInterval(p), riverFetchCooldown(p)
		if f < cool || cool < time.Millisecond {
			t.Errorf("poll_interval %s: River's FetchPollInterval %s, FetchCooldown %s; River wants 1ms ≤ cooldown ≤ interval", p, f, cool)
		}
		gap := f + max(f/10, 10*time.Millisecond)
		want := max(p*9/10, 2*cool) // below ~22 ms, the cooldown's floor
		if gap > want {
			t.Errorf("poll_interval %s: River's longest wait %s (FetchPollInterval %s); want at most %s", p, gap, f, want)
		}
		if gap < want*8/10 {
			t.Errorf("poll_interval %s: River's longest wait %s; more polls than needed (want about %s)", p, gap, want)
		}
	}
}

// clockRecorder records a clock's promotion passes and wakes.
type clockRecorder struct {
	mu     sync.Mutex
	passes []time.Time // when each pass ran
	wakes  []time.Time // when each wake ran
	woke   chan struct{}
	passed chan struct{}
	fail   error // returned by promote
}

func newClockRecorder() *clockRecorder {
	return &clockRecorder{woke: make(chan struct{}, 64), passed: make(chan struct{}, 64)}
}

func (r *clockRecorder) promote(context.Context, time.Time) error {
	r.mu.Lock()
	r.passes = append(r.passes, time.Now())
	err := r.fail
	r.mu.Unlock()
	r.passed <- struct{}{}
	return err
}

func (r *clockRecorder) wake(context.Context) error {
	r.mu.Lock()
	r.wakes = append(r.wakes, time.Now())
	r.mu.Unlock()
	r.woke <- struct{}{}
	return nil
}

// TestRetryClockWakesWhenDue: with a wake (PostgreSQL), the clock wakes
// River's fetchers at each noted due time, never before the earliest, and
// coalesces due times closer than clockMinGap; the promotion pass still
// runs ahead of them, once for the burst.
func TestRetryClockWakesWhenDue(t *testing.T) {
	r := newClockRecorder()
	c := startClockWake(slog.New(slog.DiscardHandler), r.promote, r.wake)
	defer c.stop()

	start := time.Now()
	due := []time.Time{
		start.Add(300 * time.Millisecond),
		start.Add(301 * time.Millisecond), // within clockMinGap of the first: the same wake, or the next
		start.Add(500 * time.Millisecond),
	}
	for _, at := range due {
		c.note(at)
	}
	last := due[len(due)-1]
	for {
		await(t, "a wake", r.woke)
		r.mu.Lock()
		done := !r.wakes[len(r.wakes)-1].Before(last)
		r.mu.Unlock()
		if done {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.passes) != 1 || !r.passes[0].Before(due[0]) {
		t.Errorf("promotion passes at %v; want one, before the first due time %v", r.passes, due[0])
	}
	if r.wakes[0].Before(due[0]) {
		t.Errorf("first wake at %v, before the first due time %v", r.wakes[0], due[0])
	}
	if len(r.wakes) > len(due) {
		t.Errorf("%d wakes for %d due times", len(r.wakes), len(due))
	}
	for i := 1; i < len(r.wakes); i++ {
		if gap := r.wakes[i].Sub(r.wakes[i-1]); gap < clockMinGap {
			t.Errorf("wakes %s apart; want at least clockMinGap (%s)", gap, clockMinGap)
		}
	}
}

// TestRetryClockNoWakeAfterFailedPass: the jobs of a pass that failed are
// not available, so the clock does not wake the fetchers for them (River's
// scheduler takes them); the next due time, after the clock's backoff,
// gets its pass and its wake.
func TestRetryClockNoWakeAfterFailedPass(t *testing.T) {
	r := newClockRecorder()
	r.fail = errors.New("the store is down")
	c := startClockWake(slog.New(slog.DiscardHandler), r.promote, r.wake)
	defer c.stop()
	c.note(time.Now().Add(50 * time.Millisecond))
	await(t, "the failed pass", r.passed)
	r.mu.Lock()
	r.fail = nil
	r.mu.Unlock()
	later := time.Now().Add(clockBackoff + 2*clockLead)
	c.note(later)
	await(t, "the wake of the later due time", r.woke)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.passes) != 2 || len(r.wakes) != 1 || r.wakes[0].Before(later) {
		t.Errorf("passes at %v, wakes at %v; want two passes and one wake, for the later due time %v (none for the failed pass)", r.passes, r.wakes, later)
	}
}

// TestRetryClockWithoutWake: without a wake (SQLite) the clock only
// promotes, ahead of the due time.
func TestRetryClockWithoutWake(t *testing.T) {
	r := newClockRecorder()
	c := startClock(slog.New(slog.DiscardHandler), r.promote)
	defer c.stop()
	due := time.Now().Add(clockLead + 100*time.Millisecond)
	c.note(due)
	await(t, "the pass", r.passed)
	if r.passes[0].After(due) {
		t.Errorf("pass at %v, after the due time %v", r.passes[0], due)
	}
}

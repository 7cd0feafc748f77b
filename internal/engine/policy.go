package engine

import (
	"math/rand/v2"
	"sync"
	"time"
)

// schedule is a retry schedule: the delay after the k-th failed attempt is
// steps[k-1], the last step repeating, spread by ±jitter.
type schedule struct {
	steps  []time.Duration
	jitter float64
}

// delay returns the wait after failed attempt number k (1-based).
func (s schedule) delay(k int) time.Duration {
	if len(s.steps) == 0 {
		return time.Second
	}
	d := s.steps[min(max(k, 1), len(s.steps))-1]
	if s.jitter > 0 {
		f := 1 + s.jitter*(2*rand.Float64()-1)
		d = time.Duration(float64(d) * f)
	}
	return d
}

// breaker backs a whole target off after a run of consecutive failures, so
// that its jobs snooze without an attempt (and without holding a worker for
// a timeout) until a probe may go; then one probe goes through, and its
// success closes the breaker.
//
// The wait before a probe follows the target's retry schedule: the first
// time the breaker opens, its first step (5 s by default); after each
// failed probe, the next step, the last one repeating; never longer than
// cap (delivery.breaker_cooldown). So a receiver that comes back is seen
// within the schedule's current step, or cap, not after a fixed cool-down.
//
// The state is per process: on PostgreSQL each node learns on its own that
// a target is down, which costs at most threshold attempts per node.
type breaker struct {
	threshold int
	sched     schedule
	cap       time.Duration

	mu        sync.Mutex
	failures  int       // consecutive
	openUntil time.Time // zero when closed
	opens     int       // consecutive openings (failed probes + 1)
	cooldown  time.Duration
	probing   bool

	// The last transitions, for the target's detail: when it last opened
	// (and the error that opened it) and when it last closed.
	openedAt, closedAt time.Time
	cause              string
}

// breakerChange is what one recorded outcome did to a breaker: opened
// (from closed, with until) or closed (from open); neither when it stayed
// as it was, a failed probe included (it was open and stays open).
type breakerChange struct {
	opened, closed bool
	until          time.Time
}

// admit reports how long a job must wait before it may attempt; 0 means go.
func (b *breaker) admit(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return 0
	}
	if now.Before(b.openUntil) {
		return b.openUntil.Sub(now) + spread(time.Second)
	}
	if b.probing {
		return min(b.cooldown, time.Second) + spread(time.Second)
	}
	b.probing = true
	return 0
}

// record notes the outcome of an admitted attempt (cause: its error, for
// a failure) and reports whether it opened or closed the breaker, so that
// the caller logs each transition once.
func (b *breaker) record(ok bool, now time.Time, cause string) breakerChange {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.probing
	b.probing = false
	if ok {
		wasOpen := !b.openUntil.IsZero()
		b.failures, b.openUntil, b.opens, b.cooldown = 0, time.Time{}, 0, 0
		if wasOpen {
			b.closedAt = now
		}
		return breakerChange{closed: wasOpen}
	}
	b.failures++
	if b.failures < b.threshold && !wasProbe {
		return breakerChange{}
	}
	wasOpen := !b.openUntil.IsZero()
	if !wasOpen || wasProbe {
		b.opens++
		b.cooldown = min(b.sched.delay(b.opens), b.cap)
	}
	b.openUntil = now.Add(b.cooldown)
	if wasOpen {
		return breakerChange{}
	}
	b.openedAt, b.cause = now, cause
	return breakerChange{opened: true, until: b.openUntil}
}

// abandon ends an admitted attempt that was cut short (shutdown) without
// an outcome: a probe may go again; nothing else changes.
func (b *breaker) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

// breakerView is a breaker's state and last transitions, at one moment.
type breakerView struct {
	open               bool
	until              time.Time
	openedAt, closedAt time.Time
	cause              string
}

// view returns the breaker's state at now and its last transitions.
func (b *breaker) view(now time.Time) breakerView {
	b.mu.Lock()
	defer b.mu.Unlock()
	return breakerView{open: !b.openUntil.IsZero() && now.Before(b.openUntil), until: b.openUntil,
		openedAt: b.openedAt, closedAt: b.closedAt, cause: b.cause}
}

// openUntilAt reports whether the breaker is open at now, and until when.
func (b *breaker) openUntilAt(now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil, !b.openUntil.IsZero() && now.Before(b.openUntil)
}

// open reports whether the breaker is open (for health reporting).
func (b *breaker) open(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.openUntil.IsZero() && now.Before(b.openUntil)
}

// spread returns a random duration in [0, d), to keep snoozed jobs of one
// target from waking all at once.
func spread(d time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(d)))
}

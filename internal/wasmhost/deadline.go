package wasmhost

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines
//
// A call's deadline must stop its guest a few milliseconds after it
// passes, however busy the process is. wazero stops a guest when the ctx
// it runs under is done (WithCloseOnContextDone): a goroutine of its own
// waits on ctx.Done() and closes the module, and the guest's loops see it.
// With context.WithTimeout, the ctx is done when a Go timer fires, and a
// Go timer lives on the run queue of the processor (P) of the goroutine
// that armed it: the call's own, which then runs the guest. That P looks
// at its timers only when the guest is preempted (every 10 ms at best);
// another P runs them only when it is idle. When the other Ps are busy
// (other work, or the garbage collector's idle mark worker, which does not
// look at timers at all) the deadline waits for a preemption: the 17 ms
// to 116 ms past a 300 ms deadline that operators saw through `serve`.
//
// So a call's ctx is not done by a timer of its own: one watchdog
// goroutine per engine keeps the deadlines of the calls in flight and
// ends each one's ctx when it passes. On Linux it sleeps on a timerfd read
// through the network poller, which every idle P, the GC's idle worker
// (pollWork) and the scheduler's monitor (sysmon, every 10 ms) look at;
// elsewhere on a Go timer, which lives on the watchdog's P, not the
// guest's. The ctx it ends is the one wazero watches, so the rest of the
// path (wazero's watcher, the module closed, the guest's loop check) is
// unchanged; Err says context.DeadlineExceeded, as for a timeout.

// alarm is a one-shot timer a goroutine can sleep on.
type alarm interface {
	// set makes the alarm fire after d (at once if d <= 0), replacing any
	// earlier setting. Safe to call from any goroutine.
	set(d time.Duration)
	// wait sleeps until the alarm fires; false once it is closed.
	wait() bool
	close()
}

// deadlines is an engine's watchdog: the calls in flight and when each
// must end.
type deadlines struct {
	start sync.Once
	alarm alarm
	done  chan struct{} // closed when the watchdog goroutine has returned

	mu     sync.Mutex
	calls  []*callCtx
	next   time.Time // what the alarm is set for; zero: not set
	closed bool
}

// callCtx is the ctx a call runs under: the caller's ctx (values,
// cancellation), done at the call's deadline by the watchdog.
type callCtx struct {
	context.Context // context.WithCancelCause of the caller's ctx
	cancel          context.CancelCauseFunc
	deadline        time.Time
	expired         atomic.Bool
	idx             int // in deadlines.calls; -1 once out
}

// Deadline implements context.Context.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Err implements context.Context: DeadlineExceeded once the watchdog
// ended it, as a timeout would say.
func (c *callCtx) Err() error {
	if c.expired.Load() {
		return context.DeadlineExceeded
	}
	return c.Context.Err()
}

// expire ends the call's ctx at its deadline.
func (c *callCtx) expire() {
	c.expired.Store(true)
	c.cancel(context.DeadlineExceeded)
}

// withDeadline returns a ctx for a call, done at deadline (or when parent
// is), and the function that releases it once the call is over.
func (d *deadlines) withDeadline(parent context.Context, deadline time.Time) (*callCtx, func()) {
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	inner, cancel := context.WithCancelCause(parent)
	c := &callCtx{Context: inner, cancel: cancel, deadline: deadline, idx: -1}
	if !d.add(c) {
		// The engine is closing: a timer of the ctx's own will do.
		tctx, tcancel := context.WithDeadline(inner, deadline)
		c.Context = tctx
		return c, func() { tcancel(); cancel(context.Canceled) }
	}
	return c, func() {
		d.remove(c)
		cancel(context.Canceled)
	}
}

// add registers c, starting the watchdog on first use; false once the
// watchdog is closed.
func (d *deadlines) add(c *callCtx) bool {
	d.start.Do(func() {
		d.alarm = newAlarm()
		d.done = make(chan struct{})
		go d.run()
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	c.idx = len(d.calls)
	d.calls = append(d.calls, c)
	if d.next.IsZero() || c.deadline.Before(d.next) {
		d.next = c.deadline
		d.alarm.set(time.Until(c.deadline))
	}
	return true
}

// remove takes c out. The alarm stays set: waking once for nothing is
// cheaper than setting it again for every call.
func (d *deadlines) remove(c *callCtx) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i := c.idx; i >= 0 && i < len(d.calls) && d.calls[i] == c {
		last := len(d.calls) - 1
		d.calls[i] = d.calls[last]
		d.calls[i].idx = i
		d.calls[last] = nil
		d.calls = d.calls[:last]
	}
	c.idx = -1
}

// run is the watchdog: at each alarm it ends the calls whose deadline
// passed and sets the alarm for the next one.
func (d *deadlines) run() {
	defer close(d.done)
	for d.alarm.wait() {
		now := time.Now()
		d.mu.Lock()
		var next time.Time
		for i := 0; i < len(d.calls); {
			c := d.calls[i]
			if c.deadline.After(now) {
				if next.IsZero() || c.deadline.Before(next) {
					next = c.deadline
				}
				i++
				continue
			}
			c.expire()
			last := len(d.calls) - 1
			d.calls[i] = d.calls[last]
			d.calls[i].idx = i
			d.calls[last] = nil
			d.calls = d.calls[:last]
			c.idx = -1
		}
		d.next = next
		if !next.IsZero() {
			d.alarm.set(time.Until(next))
		}
		d.mu.Unlock()
	}
}

// close stops the watchdog; calls registered later get a timer of their
// own (withDeadline).
func (d *deadlines) close() {
	d.start.Do(func() {}) // never start after this; see a start before it
	d.mu.Lock()
	d.closed = true
	started := d.alarm != nil
	d.mu.Unlock()
	if started {
		d.alarm.close()
		<-d.done
	}
}

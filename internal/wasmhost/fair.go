package wasmhost

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Fair CPU
//
// Compiled guest code runs on its goroutine's OS thread until it returns
// or its deadline stops it; the Go scheduler can preempt it only when it
// passes through Go code (wazero's loop checks), every 10 ms at best. Two
// guests that loop can thus hold both processors of a 2-core machine for
// their whole deadline, and the timers, watchers and calls of every other
// plugin wait behind them. Two rules bound that:
//
//   - Slots: at most Limits.Concurrency calls of one plugin run guest code
//     at once (half of GOMAXPROCS by default). A call waits for a slot
//     within its own deadline; if the deadline passes first it fails as a
//     deadline ([ErrDeadline], also [ErrBusy]), without having run.
//   - Breaker: a plugin whose last [breakerThreshold] calls that ran were
//     all stopped by their deadline is backed off: its calls fail at once
//     with [ErrBackedOff] (the delivery engine retries them later) for a
//     cool-down of [breakerCooldown], doubled at each failed probe up to
//     [breakerMaxCooldown]. After the cool-down one call runs as a probe;
//     if it finishes by itself (any outcome but its deadline) the plugin
//     is closed again. A reload to a new version closes it too.
const (
	breakerThreshold   = 3
	breakerCooldown    = time.Second
	breakerMaxCooldown = 30 * time.Second
)

// gate holds a plugin's slots and breaker, across its versions.
type gate struct {
	slots chan struct{}
	now   func() time.Time // time.Now; tests set a clock of their own

	mu        sync.Mutex
	threshold int // 0: the breaker never opens (tests, benchmarks)
	streak    int // consecutive calls stopped by their deadline
	cooldown  time.Duration
	openUntil time.Time // zero: closed
	probing   bool      // half-open: a probe is running
	opened    int64     // times opened since start
}

func newGate(concurrency int) *gate {
	return &gate{
		slots:     make(chan struct{}, concurrency),
		now:       time.Now,
		threshold: breakerThreshold,
		cooldown:  breakerCooldown,
	}
}

// ticket is one admitted call: it holds a slot until done.
type ticket struct {
	g     *gate
	probe bool
}

// admit admits a call: refused at once while the breaker is open, else
// waiting for a slot until ctx (which carries the call's deadline) ends.
func (g *gate) admit(ctx context.Context, timeout time.Duration) (*ticket, error) {
	probe, err := g.allow()
	if err != nil {
		return nil, err
	}
	select {
	case g.slots <- struct{}{}:
	default:
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			g.abandon(probe)
			if ctx.Err() == context.DeadlineExceeded {
				return nil, newError(fmt.Sprintf("plugin busy: no CPU slot came free before the call's %s deadline (at most %d of its calls run at once)",
					timeout, cap(g.slots)), ErrDeadline, ErrBusy, context.DeadlineExceeded)
			}
			return nil, newError("plugin call canceled while waiting for a CPU slot: "+context.Cause(ctx).Error(), ErrCanceled, ctx.Err())
		}
	}
	return &ticket{g: g, probe: probe}, nil
}

// allow checks the breaker: it reports whether this call is the probe of
// a half-open breaker, or refuses it.
func (g *gate) allow() (probe bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.openUntil.IsZero() {
		return false, nil
	}
	if now := g.now(); now.Before(g.openUntil) || g.probing {
		wait := g.openUntil.Sub(now).Round(time.Millisecond)
		if wait <= 0 {
			wait = 0
		}
		return false, newError(fmt.Sprintf("plugin backed off: its last %d calls ran past their deadline; it is tried again in %s",
			breakerThreshold, wait), ErrBackedOff)
	}
	g.probing = true
	return true, nil
}

// abandon gives up a probe that did not run.
func (g *gate) abandon(probe bool) {
	if probe {
		g.mu.Lock()
		g.probing = false
		g.mu.Unlock()
	}
}

// outcome is how an admitted call ended, for the breaker.
type outcome int

const (
	ranOut  outcome = iota // the guest ran until its deadline stopped it
	ended                  // the guest finished by itself (returned, trapped, …)
	neutral                // it did not run, or was canceled: says nothing
)

// done releases the slot and feeds the breaker.
func (t *ticket) done(o outcome) {
	<-t.g.slots
	t.g.record(o, t.probe)
}

func (g *gate) record(o outcome, probe bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if probe {
		g.probing = false
	}
	switch o {
	case ended:
		g.streak, g.openUntil, g.cooldown = 0, time.Time{}, breakerCooldown
	case ranOut:
		g.streak++
		switch {
		case g.threshold == 0:
		case probe:
			g.open()
		case g.openUntil.IsZero() && g.streak >= g.threshold:
			g.open()
		}
	}
}

// open opens the breaker for the current cool-down and doubles the next.
func (g *gate) open() {
	g.openUntil = g.now().Add(g.cooldown)
	g.cooldown = min(2*g.cooldown, breakerMaxCooldown)
	g.opened++
}

// reset closes the breaker: a new version deserves a fresh start.
func (g *gate) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streak, g.openUntil, g.cooldown, g.probing = 0, time.Time{}, breakerCooldown, false
}

// state reports whether the breaker is open now and how often it opened.
func (g *gate) state() (open bool, opened int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.openUntil.IsZero() && g.now().Before(g.openUntil), g.opened
}

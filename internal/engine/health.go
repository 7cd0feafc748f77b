package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// healthProbe tells whether the store takes writes, from two sources:
//
//   - the commits of emits, as they happen: the first one the store
//     refuses (a full disk, a lost database) makes the node unready at
//     once, and the next good one ready again. A cached probe alone left
//     /readyz at 200 for seconds while every POST was refused;
//   - a write probe, at most once per healthTTL, when a health check asks:
//     it finds an outage while no events come in, and it is how an unready
//     node that gets no traffic (a load balancer took it out) learns the
//     store is back. After a refused emit it runs only once no emit has
//     been tried for healthTTL, so that a probe that happens to fit on a
//     nearly full disk does not make the node ready while emits fail.
type healthProbe struct {
	sem chan struct{} // one probe at a time; waiters honour their context

	mu        sync.Mutex
	probedAt  time.Time // the last probe
	probeErr  error     // its result
	emitAt    time.Time // the last emit commit that reached the store
	refused   error     // the last refused write, nil after a good one
	refusedAt time.Time
}

const healthTTL = time.Second

func newHealthProbe() healthProbe { return healthProbe{sem: make(chan struct{}, 1)} }

// noteEmit records the outcome of an emit's commit. Only a refusal by the
// store counts (hook.ErrUnavailable); a commit given up because its
// callers left says nothing about the store.
func (h *healthProbe) noteEmit(ctx context.Context, err error) {
	if err != nil && !errors.Is(err, hook.ErrUnavailable) {
		return
	}
	if err != nil && ctx.Err() != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.emitAt = time.Now()
	h.note(err, h.emitAt)
	// A commit tells as much as the write probe: Health says the same.
	h.probedAt, h.probeErr = h.emitAt, err
}

// note records a write's outcome; h.mu is held.
func (h *healthProbe) note(err error, at time.Time) {
	if err == nil {
		h.refused = nil
		return
	}
	h.refused, h.refusedAt = err, at
}

// ready reports whether the last write the store was asked for was taken,
// probing when the last probe is stale (see healthProbe).
func (h *healthProbe) ready(ctx context.Context, db *store.DB) error {
	h.mu.Lock()
	refused, at := h.refused, h.refusedAt
	quiet := time.Since(h.emitAt) >= healthTTL
	h.mu.Unlock()
	if refused != nil && !quiet {
		return refusedErr(refused, at)
	}
	if err := h.check(ctx, db); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refused != nil { // an emit was refused since the probe
		return refusedErr(h.refused, h.refusedAt)
	}
	return nil
}

func refusedErr(err error, at time.Time) error {
	return fmt.Errorf("the store refused a write %s ago: %w", time.Since(at).Round(time.Millisecond), err)
}

// check runs the write probe, or returns its result if it ran less than
// healthTTL ago. A probe's outcome counts as a write's (note).
func (h *healthProbe) check(ctx context.Context, db *store.DB) error {
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.sem }()
	h.mu.Lock()
	if !h.probedAt.IsZero() && time.Since(h.probedAt) < healthTTL {
		err := h.probeErr
		h.mu.Unlock()
		return err
	}
	h.mu.Unlock()
	start := time.Now()
	err := db.Ping(ctx)
	if err == nil {
		err = db.WriteProbe(ctx)
	}
	if err != nil && ctx.Err() != nil {
		return err // given up by the caller: says nothing about the store
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probedAt, h.probeErr = time.Now(), err
	switch {
	case h.emitAt.After(start): // an emit has told something newer
	case err != nil:
		h.note(err, h.probedAt)
	case start.Sub(h.emitAt) >= healthTTL: // and not just after a refused emit
		h.note(nil, h.probedAt)
	}
	return err
}

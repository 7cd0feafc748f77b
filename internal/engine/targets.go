package engine

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Target states live in the store (hookd_target), so that every node sees
// an operator's disable, pause or enable. Each node keeps a cache, reloaded
// when older than stateRefresh; a verdict other than "enabled" is checked
// against the store before a delivery is dead-lettered or set aside, so a
// stale cache can delay a pause by stateRefresh but never dead-letters a
// delivery of a target enabled meanwhile.
const (
	stateRefresh = 2 * time.Second
	// pausedWait is how long a job of a paused target snoozes before it
	// looks again; resuming rearms the target's deliveries at once.
	pausedWait = time.Hour
)

// stateCache is a node's copy of the stored target states.
type stateCache struct {
	mu     sync.Mutex
	rows   map[string]store.TargetRow
	loaded time.Time
}

// refresh reloads the states from the store.
func (c *stateCache) refresh(ctx context.Context, db *store.DB) error {
	rows, err := db.TargetStates(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.rows, c.loaded = rows, time.Now()
	c.mu.Unlock()
	return nil
}

// set records a state this node just stored (nil row: enabled).
func (c *stateCache) set(name string, row *store.TargetRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = map[string]store.TargetRow{}
	}
	if row == nil {
		delete(c.rows, name)
	} else {
		c.rows[name] = *row
	}
}

// get returns the cached state of name, reloading a stale cache first (a
// failed reload keeps the old copy).
func (c *stateCache) get(ctx context.Context, db *store.DB, name string) (store.TargetRow, bool) {
	c.mu.Lock()
	stale := time.Since(c.loaded) > stateRefresh
	c.mu.Unlock()
	if stale {
		_ = c.refresh(ctx, db)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rows[name]
	return r, ok
}

// targetState returns name's state: enabled (false), or its stored row,
// confirmed by a read of the store.
func (e *Engine) targetState(ctx context.Context, name string) (store.TargetRow, bool, error) {
	if _, off := e.states.get(ctx, e.db, name); !off {
		return store.TargetRow{}, false, nil
	}
	row, off, err := e.db.TargetState(ctx, name)
	if err != nil {
		return store.TargetRow{}, false, err
	}
	if off {
		e.states.set(name, &row)
	} else {
		e.states.set(name, nil)
	}
	return row, off, nil
}

// target returns the configured target name, or an error matching
// hook.ErrNotFound that lists the configured ones.
func (e *Engine) target(name string) (*target, error) {
	t := e.lookup(name)
	if t == nil {
		return nil, fmt.Errorf("target %q: %w; configured: %v", name, hook.ErrNotFound, e.Targets())
	}
	return t, nil
}

// DisableTarget disables a target: its deliveries go to the dead-letter
// list, on every node, until it is enabled. actor is "operator" or "hookd".
func (e *Engine) DisableTarget(ctx context.Context, name, reason, actor string) error {
	if _, err := e.target(name); err != nil {
		return err
	}
	return e.setState(ctx, name, hook.TargetDisabled, reason, actor)
}

// PauseTarget pauses a target: its deliveries wait, undelivered, until it
// is resumed (they still age: the maximum age applies when they are next
// attempted).
func (e *Engine) PauseTarget(ctx context.Context, name, reason string) error {
	if _, err := e.target(name); err != nil {
		return err
	}
	return e.setState(ctx, name, hook.TargetPaused, reason, "operator")
}

func (e *Engine) setState(ctx context.Context, name, state, reason, actor string) error {
	if err := e.db.SetTargetState(ctx, name, state, reason, actor); err != nil {
		return err
	}
	e.states.set(name, &store.TargetRow{Name: name, State: state, Reason: reason, Actor: actor, Since: time.Now()})
	e.log.WarnContext(ctx, "target "+state, slog.String("target", name), slog.String("reason", reason), slog.String("by", actor))
	return nil
}

// EnableTarget enables a disabled or paused target. The dead deliveries of
// a disabled one stay dead until replayed; the waiting deliveries of a
// paused one are attempted at once (or when their next attempt is due).
// resume asks for a paused target only: an error matching
// hook.ErrConflict otherwise.
func (e *Engine) EnableTarget(ctx context.Context, name string, resume bool) error {
	t, err := e.target(name)
	if err != nil {
		return err
	}
	row, off, err := e.db.TargetState(ctx, name)
	if err != nil {
		return err
	}
	if resume && (!off || row.State != hook.TargetPaused) {
		return fmt.Errorf("target %q is not paused: %w", name, hook.ErrConflict)
	}
	if !off {
		return nil
	}
	err = e.db.InTx(ctx, func(tx store.Tx) error {
		if err := store.ClearTargetState(ctx, tx, name); err != nil {
			return err
		}
		if row.State != hook.TargetPaused {
			return nil
		}
		return e.rearm(ctx, tx, t)
	})
	if err != nil {
		return fmt.Errorf("enable target %s: %w", name, err)
	}
	e.states.set(name, nil)
	e.log.InfoContext(ctx, "target enabled", slog.String("target", name), slog.String("was", row.State))
	return nil
}

// rearm gives the live deliveries of t new jobs (their old ones, snoozed
// while t was paused, retire); an ordered one's key job is woken instead
// (it is the key's only one, snoozed while t was paused).
func (e *Engine) rearm(ctx context.Context, tx store.Tx, t *target) error {
	rs, err := store.Rearm(ctx, tx, t.Name)
	if err != nil || len(rs) == 0 {
		return err
	}
	em := emission{e: e, tx: tx, now: time.Now()}
	ds := make([]again, len(rs))
	for i, r := range rs {
		ds[i] = again{id: r.ID, gen: r.Gen, target: t.Name, at: r.Next}
	}
	if err := em.rejob(ctx, ds); err != nil {
		return err
	}
	return em.flush(ctx)
}

// TargetStatuses returns every configured target's state, breaker, load
// and delivery settings, in routing order.
func (e *Engine) TargetStatuses(ctx context.Context) ([]hook.TargetStatus, error) {
	if err := e.states.refresh(ctx, e.db); err != nil {
		return nil, err
	}
	loads, err := e.db.TargetLoads(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	order := e.current().order
	out := make([]hook.TargetStatus, 0, len(order))
	for _, t := range order {
		st := hook.TargetStatus{Name: t.Name, State: hook.TargetEnabled, Breaker: "closed", InFlight: int(t.inflight.Load())}
		if row, off := e.states.get(ctx, e.db, t.Name); off {
			since := row.Since
			st.State, st.Reason, st.ChangedBy, st.Since = row.State, row.Reason, row.Actor, &since
		}
		if until, open := t.breaker.openUntilAt(now); open {
			st.Breaker, st.BreakerUntil = "open", &until
		}
		st.BreakerChange = breakerDetail(t.breaker.view(now))
		st.Delivery = e.deliveryView(t)
		if l, ok := loads[t.Name]; ok {
			st.Pending, st.LastError = l.Pending, l.LastError
			if !l.OldestPending.IsZero() {
				oldest := l.OldestPending
				st.OldestPending = &oldest
			}
			if !l.LastErrorAt.IsZero() {
				at := l.LastErrorAt
				st.LastErrorAt = &at
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// failing tracks how long a target has failed without a success, for the
// automatic disabling (DeliveryOptions.DisableAfter).
type failing struct {
	mu       sync.Mutex
	since    time.Time // first failure after the last success; zero while succeeding
	attempts int
}

// note records an attempt's outcome and reports, for a failure, since when
// the target has failed without a success and how many attempts failed.
func (f *failing) note(ok bool, now time.Time) (time.Time, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		f.since, f.attempts = time.Time{}, 0
		return time.Time{}, 0
	}
	if f.since.IsZero() {
		f.since = now
	}
	f.attempts++
	return f.since, f.attempts
}

// autoDisable disables t when it has failed without a success for at
// least disableAfter, and announces it to the command sink.
func (e *Engine) autoDisable(ctx context.Context, t *target, since time.Time, attempts int) error {
	if e.disableAfter <= 0 || since.IsZero() || time.Since(since) < e.disableAfter {
		return nil
	}
	if row, off, err := e.targetState(ctx, t.Name); err != nil || off && row.State == hook.TargetDisabled {
		return err
	}
	reason := fmt.Sprintf("every attempt failed for %s (%d attempts since %s)",
		time.Since(since).Round(time.Second), attempts, since.UTC().Format(time.RFC3339))
	if err := e.DisableTarget(ctx, t.Name, reason, "hookd"); err != nil {
		return err
	}
	return e.announce(ctx, t.Name, hook.TargetDisabled, reason)
}

// announce tells the proxy, through the command sink when one is
// configured, that hookd changed a target's state on its own: a command
// event whose document is <hookd><target name="…" state="…">reason</target></hookd>.
func (e *Engine) announce(ctx context.Context, name, state, reason string) error {
	if e.lookup(hook.CommandsTarget) == nil || name == hook.CommandsTarget {
		return nil
	}
	doc := `<hookd><target name="` + xmlEscape(name) + `" state="` + state + `">` + xmlEscape(reason) + `</target></hookd>`
	_, err := e.emitTo(ctx, hook.CommandsTarget, map[string]string{
		hook.FieldModule: "HOOKD", hook.FieldEvent: "TARGET_" + strings.ToUpper(state),
		hook.CommandFieldXML: doc, hook.CommandFieldTarget: name,
	})
	if err != nil {
		return fmt.Errorf("announce target %s %s: %w", name, state, err)
	}
	return nil
}

// xmlEscape escapes s for XML text and attribute values.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Why a live delivery is not moving is decided here, once, from what owns
// it: the target's stored state and this node's breaker. The API, the CLI
// (through the API) and the admin page show these texts as they are.

// clock formats a time of day for a held detail: UTC, to the second.
func clock(t time.Time) string { return t.UTC().Format("15:04:05") + " UTC" }

// holdOf says why a live delivery of the target name is held at now, or
// "" when nothing holds it: a disabled or paused target (every node), a
// breaker open on this node, or this node's share of the target's rate
// limit spoken for (deferred attempts wait their slots).
func (e *Engine) holdOf(ctx context.Context, name string, now time.Time) string {
	t := e.lookup(name)
	if t == nil {
		return fmt.Sprintf("held: target %q is not configured on this node", name)
	}
	if row, off := e.states.get(ctx, e.db, name); off {
		return fmt.Sprintf("held: target %s by %s: %s", row.State, row.Actor, row.Reason)
	}
	if b := t.breaker.view(now); b.open {
		return "held: breaker open until " + clock(b.until)
	}
	if until, ok := t.rate.backlog(now); ok {
		return fmt.Sprintf("held: rate limit %s%s: attempts wait their turn, the last until about %s",
			perSecond(t.rate.perSecond), t.rate.shareNote(), clock(until))
	}
	return ""
}

// explainHeld sets each live (pending or retrying) delivery's Held: why
// it is not moving ("held: breaker open until 05:38:04 UTC", "held:
// target paused by operator: maintenance"), or "" when nothing holds it.
func (e *Engine) explainHeld(ctx context.Context, ds []hook.Delivery) {
	now := time.Now()
	memo := map[string]string{}
	for i, d := range ds {
		if !d.State.Live() {
			continue
		}
		h, ok := memo[d.Target]
		if !ok {
			h = e.holdOf(ctx, d.Target, now)
			memo[d.Target] = h
		}
		ds[i].Held = h
	}
	e.explainOrder(ctx, ds)
}

// explainOrder sets the Held of each live ordered delivery that is not
// its key's head: "held: waiting behind delivery 41 (ordered by
// SESSIONID=abc)". The head itself keeps what holds its target, if
// anything. A failed read leaves them as they were: a view, not a
// decision.
func (e *Engine) explainOrder(ctx context.Context, ds []hook.Delivery) {
	var ids []int64
	for _, d := range ds {
		if d.State.Live() {
			ids = append(ids, d.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	places, err := e.db.OrderPlaces(ctx, ids)
	if err != nil {
		e.log.DebugContext(ctx, "the order of deliveries could not be read", slog.Any("error", err))
		return
	}
	for i, d := range ds {
		if p, ok := places[d.ID]; ok && p.Head != 0 && p.Head != d.ID {
			ds[i].Held = fmt.Sprintf("held: waiting behind delivery %d (ordered by %s)", p.Head, e.orderLabel(d.Target, p.Key))
		}
	}
}

// orderLabel says what orders a delivery of target with key:
// "SESSIONID=abc", `SESSIONID="" (the field is missing or empty)`, or
// "key abc" when the target no longer names its field.
func (e *Engine) orderLabel(target, key string) string {
	field := e.lookup(target).orderedBy()
	switch {
	case field == "":
		return fmt.Sprintf("key %q", key)
	case key == "":
		return field + `="" (the field is missing or empty)`
	}
	return field + "=" + key
}

// heldWhy is what a dead letter never attempted adds to its reason: what
// held it while it aged (", while the breaker was open"), or "".
func (e *Engine) heldWhy(t *target, now time.Time) string {
	if t == nil {
		return ""
	}
	if b := t.breaker.view(now); !b.openedAt.IsZero() && b.openedAt.After(b.closedAt) {
		return ", never attempted: the breaker has been open since " + clock(b.openedAt) + " (" + b.cause + ")"
	}
	return ", never attempted"
}

// breakerChanged logs a transition of t's breaker, once: it opened (the
// error that opened it, and until when it waits before a probe) or it
// closed (a probe succeeded).
func (e *Engine) breakerChanged(ctx context.Context, t *target, ch breakerChange, cause string) {
	switch {
	case ch.opened:
		e.log.WarnContext(ctx, "breaker opened", slog.String("target", t.Name), slog.String("cause", cause),
			slog.Time("until", ch.until), slog.Int("threshold", t.breaker.threshold))
	case ch.closed:
		e.log.InfoContext(ctx, "breaker closed", slog.String("target", t.Name), slog.String("cause", "a probe succeeded"))
	}
}

// breakerDetail says how t's breaker last changed on this node, for the
// target's detail: "opened 05:37:34 UTC: HTTP 500: database is down (open
// until 05:38:04 UTC)" or "closed 05:39:10 UTC (opened 05:37:34 UTC: …)";
// "" when it never changed.
func breakerDetail(b breakerView) string {
	if b.openedAt.IsZero() {
		return ""
	}
	opened := "opened " + clock(b.openedAt) + ": " + b.cause
	if b.closedAt.After(b.openedAt) {
		return "closed " + clock(b.closedAt) + " (" + opened + ")"
	}
	if b.open {
		return opened + " (open until " + clock(b.until) + ")"
	}
	return opened + " (a probe may go since " + clock(b.until) + ")"
}

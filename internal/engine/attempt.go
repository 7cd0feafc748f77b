package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	rtdebug "runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/tracing"
)

// busyWait is how long a job waits when its target already has as many
// attempts in flight as it may.
const busyWait = 200 * time.Millisecond

// The attempt algorithm, shared by the delivery worker (one delivery per
// job) and the batch worker (a combining target's pending deliveries in
// one request):
//
//  1. preflight: a delivery whose target is disabled, or whose event is
//     past the maximum age, is dead without an attempt; the job of a paused
//     target, or of one not configured on this node, waits;
//  2. admission: the target's in-flight cap, circuit breaker and rate
//     limit may make the job wait instead (a short wait for the rate
//     limit is waited in place: ratelimit.go); it waits, never fails;
//  3. one attempt through the target's handler, under its timeout, a
//     panic being a failed attempt; an attempt cut short by shutdown is
//     released for the next start, not counted;
//  4. the outcome: the breaker learns it, XMLMSG commands of a success are
//     forwarded to the command sink, a 410 disables the target (so does
//     failing every attempt for delivery.disable_after), and each
//     delivery's next state is decided and recorded with the attempt
//     (group commit), then observed.

// preflight finishes, without an attempt, the works that cannot have one
// and returns the others; or, for a paused target, returns how long the job
// waits before it looks again.
func (e *Engine) preflight(ctx context.Context, name string, t *target, works []*store.Work) ([]*store.Work, time.Duration, error) {
	if t == nil {
		// Not known on this node (a stored domain deleted, or not loaded
		// here yet): the delivery waits, as long as the maximum age
		// allows; then it is dead like any other, saying why.
		now := time.Now()
		for _, wk := range works {
			if e.maxAge <= 0 || now.Sub(wk.Since) <= e.maxAge {
				continue
			}
			why := fmt.Sprintf("older than the maximum age %s; its target %q is not configured on this node", hook.Duration(e.maxAge), name)
			if err := e.finish(ctx, wk, store.Outcome{State: hook.StateDead, Error: store.GaveUp(wk.LastError, why)}); err != nil {
				return nil, 0, err
			}
		}
		e.log.DebugContext(ctx, "deliveries wait: their target is not configured on this node",
			slog.String("target", name), slog.Int("deliveries", len(works)), slog.Duration("for", e.unknownWait))
		return nil, e.unknownWait + spread(e.unknownWait/3), nil
	}
	dead := ""
	row, off, err := e.targetState(ctx, name)
	switch {
	case err != nil:
		return nil, 0, err
	case off && row.State == hook.TargetPaused:
		return nil, pausedWait + spread(time.Minute), nil
	case off:
		dead = "target disabled: " + row.Reason
	}
	live := works[:0:0]
	now := time.Now()
	for _, wk := range works {
		why := dead
		if why == "" && e.maxAge > 0 && now.Sub(wk.Since) > e.maxAge {
			why = fmt.Sprintf("older than the maximum age %s", hook.Duration(e.maxAge))
			if wk.LastError == "" {
				why += e.heldWhy(t, now) // what kept it from being attempted
			}
		}
		if why == "" {
			live = append(live, wk)
			continue
		}
		if err := e.finish(ctx, wk, store.Outcome{State: hook.StateDead, Error: store.GaveUp(wk.LastError, why)}); err != nil {
			return nil, 0, err
		}
	}
	return live, 0, nil
}

// round is what one attempt of a job came to.
type round struct {
	// attempted is false when the job must wait (wait) without an attempt:
	// the target is busy, its breaker is open, or shutdown cut it short.
	attempted bool
	wait      time.Duration
	err       error           // the attempt's error
	outcomes  []store.Outcome // per work: the state it moved to
	recorded  []bool          // per work: false if an operator changed it meanwhile
}

// attempt makes one attempt for works (all of target t) through call and
// records its outcome for each of them. direct says the works take the
// direct path (direct.go): a retry needs a new job, where a River job
// snoozes itself until then.
func (e *Engine) attempt(ctx context.Context, t *target, works []*store.Work, direct bool, call func(context.Context) (hook.Result, error)) (round, error) {
	if !direct { // a direct attempt holds its slot since its reservation
		if t.inflight.Add(1) > t.maxInflight {
			t.inflight.Add(-1)
			return round{wait: busyWait + spread(busyWait)}, nil
		}
		defer t.inflight.Add(-1)
	}
	if until, open := t.breaker.openUntilAt(time.Now()); open {
		// Before the rate limit: a job of a target that is down takes no
		// token (nor a probe: admit below decides that).
		return round{wait: time.Until(until) + spread(time.Second)}, nil
	}
	if wait, cut := e.admitRate(ctx, t); cut {
		return round{}, nil // stopping: as an attempt cut short, released
	} else if wait > 0 {
		return round{wait: wait}, nil
	}
	start := time.Now()
	if wait := t.breaker.admit(start); wait > 0 {
		return round{wait: wait}, nil
	}

	ctx, span := tracing.Tracer().Start(ctx, "hookd.attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("hookd.target", t.Name), attribute.Int("hookd.deliveries", len(works)),
			attribute.Int64("hookd.delivery_id", works[0].ID), attribute.String("hookd.event_id", works[0].Event.ID),
			attribute.Int("hookd.attempt", works[0].Attempts+1)))
	defer span.End()
	res, herr := e.call(ctx, t, call)
	if res.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", res.Status))
	}
	if herr != nil {
		span.SetStatus(codes.Error, herr.Error())
	}
	if herr != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		// Shutting down: release the job for the next start instead of
		// counting an attempt that was cut short. At-least-once holds.
		t.breaker.abandon()
		return round{}, nil
	}
	end := time.Now()
	cause := ""
	if herr != nil {
		cause = herr.Error()
	}
	e.breakerChanged(ctx, t, t.breaker.record(herr == nil, end, cause), cause)
	failingSince, failures := t.failing.note(herr == nil, end)

	if herr == nil {
		if err := e.forwardCommands(ctx, t, &works[0].Event, res); err != nil {
			return round{}, err
		}
	}
	a := hook.Attempt{At: start, Latency: res.Latency, Status: res.Status, Response: string(res.Reply), Summary: res.Summary}
	if herr != nil {
		a.Error = herr.Error()
		var err error
		if hook.IsDisable(herr) {
			if err = e.DisableTarget(ctx, t.Name, herr.Error(), "hookd"); err == nil {
				err = e.announce(ctx, t.Name, hook.TargetDisabled, herr.Error())
			}
		} else {
			err = e.autoDisable(ctx, t, failingSince, failures)
		}
		if err != nil {
			return round{}, err
		}
	}
	r := round{attempted: true, err: herr, outcomes: make([]store.Outcome, len(works)), recorded: make([]bool, len(works))}
	items := make([]settle, len(works))
	for i, wk := range works {
		r.outcomes[i] = e.decide(t, wk, herr, end) // the schedule counts from the end of the attempt
		items[i] = settle{rec: &store.Record{ID: wk.ID, Gen: wk.Gen, Attempt: &a, Outcome: r.outcomes[i]}}
		if direct && r.outcomes[i].State == hook.StateRetrying {
			items[i].add = &job{args: deliveryArgs{DeliveryID: wk.ID, Gen: wk.Gen}, at: r.outcomes[i].NextAttempt}
		}
	}
	for i, err := range e.settles.submit(ctx, items...) {
		switch {
		case errors.Is(err, hook.ErrConflict): // replayed or discarded while we worked
		case err != nil:
			return round{}, err
		default:
			r.recorded[i] = true
			e.observe(ctx, works[i], r.outcomes[i], &a, herr)
		}
	}
	return r, nil
}

// decide turns an attempt's error into the delivery's next state.
func (e *Engine) decide(t *target, wk *store.Work, herr error, now time.Time) store.Outcome {
	if herr == nil {
		return store.Outcome{State: hook.StateDelivered}
	}
	msg := herr.Error()
	switch {
	case hook.IsDisable(herr):
		return store.Outcome{State: hook.StateDead, Error: "target disabled: " + msg}
	case hook.IsPermanent(herr):
		return store.Outcome{State: hook.StateDead, Error: msg}
	}
	n := wk.Attempts + 1 - wk.BaseAttempts // attempts in this round
	if t.Policy.MaxAttempts > 0 && n >= t.Policy.MaxAttempts {
		return store.Outcome{State: hook.StateDead, Error: store.GaveUp(msg, fmt.Sprintf("after %d attempts (the target's limit)", n))}
	}
	next := now.Add(e.retryDelay(t, n, herr))
	if e.maxAge > 0 && next.Sub(wk.Since) > e.maxAge {
		return store.Outcome{State: hook.StateDead, Error: store.GaveUp(msg, fmt.Sprintf("next attempt would pass the maximum age %s", hook.Duration(e.maxAge)))}
	}
	return store.Outcome{State: hook.StateRetrying, NextAttempt: next, Error: msg}
}

// retryDelay is the wait after the n-th failed attempt in a row: the
// target's schedule, or the receiver's Retry-After if longer (capped).
func (e *Engine) retryDelay(t *target, n int, herr error) time.Duration {
	delay := t.sched.delay(n)
	if ra, ok := hook.RetryAfterHint(herr); ok {
		delay = max(delay, min(ra, e.raCap))
	}
	return delay
}

// call calls the target's handler once (through call), under the
// target's timeout, turning a panic into a failed attempt and cutting the
// reply to what the delivery log keeps.
func (e *Engine) call(ctx context.Context, t *target, call func(context.Context) (hook.Result, error)) (res hook.Result, err error) {
	timeout := e.timeout
	if t.Policy.Timeout > 0 {
		timeout = t.Policy.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			e.log.ErrorContext(ctx, "handler panicked", slog.String("target", t.Name),
				slog.Any("panic", p), slog.String("stack", string(rtdebug.Stack())))
			err = fmt.Errorf("handler panicked: %v", p)
		}
		if res.Latency == 0 {
			res.Latency = time.Since(start)
		}
		if len(res.Reply) > hook.MaxReplyExcerpt {
			res.Reply = res.Reply[:hook.MaxReplyExcerpt]
		}
	}()
	return call(ctx)
}

// forwardCommands hands the XMLMSG commands of a successful attempt to the
// command sink, as a durable delivery of its own. It runs before the
// attempt is recorded: a crash in between forwards them again on the
// retry (at least once), never loses them.
func (e *Engine) forwardCommands(ctx context.Context, from *target, ev *hook.Event, res hook.Result) error {
	if len(res.Commands) == 0 || from.Name == hook.CommandsTarget {
		return nil
	}
	if e.lookup(hook.CommandsTarget) == nil {
		e.log.WarnContext(ctx, "XMLMSG commands dropped: no command sink is configured ([commands] xmlmsg_url)",
			slog.String("target", from.Name), slog.String("event_id", ev.ID), slog.String("summary", res.Summary))
		return nil
	}
	fields := map[string]string{
		hook.FieldModule: "HOOKD", hook.FieldEvent: "XMLMSG",
		hook.CommandFieldXML: string(res.Commands), hook.CommandFieldSource: ev.ID, hook.CommandFieldTarget: from.Name,
		hook.FieldServerID: ev.ServerID(),
	}
	if sid := ev.SessionID(); sid != "" {
		fields[hook.FieldSessionID] = sid
	}
	if _, err := e.emitTo(ctx, hook.CommandsTarget, fields); err != nil {
		return fmt.Errorf("forward XMLMSG commands: %w", err)
	}
	return nil
}

// finish records a decision made without an attempt.
func (e *Engine) finish(ctx context.Context, wk *store.Work, out store.Outcome) error {
	if err := e.db.Finish(ctx, wk.ID, wk.Gen, out); err != nil {
		if errors.Is(err, hook.ErrConflict) {
			return nil
		}
		return err
	}
	e.log.WarnContext(ctx, "delivery dead", slog.Int64("delivery", wk.ID), slog.String("target", wk.Target),
		slog.String("reason", out.Error))
	e.observe(ctx, wk, out, nil, nil)
	return nil
}

func (e *Engine) observe(ctx context.Context, wk *store.Work, out store.Outcome, a *hook.Attempt, herr error) {
	level := slog.LevelDebug
	if out.State != hook.StateDelivered {
		level = slog.LevelInfo
	}
	attempts := wk.Attempts
	if a != nil {
		attempts++
	}
	if e.log.Enabled(ctx, level) {
		attrs := []slog.Attr{slog.Int64("delivery", wk.ID), slog.String("event_id", wk.Event.ID),
			slog.String("target", wk.Target), slog.String("state", string(out.State)), slog.Int("attempt", attempts)}
		if a != nil {
			attrs = append(attrs, slog.Int("status", a.Status), slog.Duration("latency", a.Latency))
		}
		if out.Error != "" {
			attrs = append(attrs, slog.String("error", out.Error))
		}
		if !out.NextAttempt.IsZero() {
			attrs = append(attrs, slog.Time("next_attempt", out.NextAttempt))
		}
		e.log.LogAttrs(ctx, level, "delivery attempt", attrs...)
	}
	if e.observer == nil {
		return
	}
	o := hook.Observation{DeliveryID: wk.ID, EventID: wk.Event.ID, Target: wk.Target, State: out.State,
		Attempt: attempts, Err: herr, Reason: out.Error, Next: out.NextAttempt, At: time.Now(), EventAt: wk.Event.Created}
	if a != nil {
		o.Status, o.Latency, o.At = a.Status, a.Latency, a.At
	}
	e.observer(ctx, o)
}

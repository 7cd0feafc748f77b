package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	rtdebug "runtime/debug"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// busyWait is how long a job waits when its target already has as many
// attempts in flight as it may.
const busyWait = 200 * time.Millisecond

// worker makes one delivery attempt per River job run.
type worker struct {
	river.WorkerDefaults[deliveryArgs]
	rt *Runtime
}

// Work loads the delivery, decides whether an attempt may be made, makes
// it, records it, and snoozes the job until the next attempt is due.
// Returning an error (only for store failures) lets River retry the job
// with its own backoff; everything else is hookd's decision.
func (w *worker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	rt := w.rt
	wk, err := rt.db.LoadWork(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if wk.Gen != job.Args.Gen || (wk.State != store.StatePending && wk.State != store.StateRetrying) {
		return nil // replayed, discarded or already finished: this job is stale
	}
	now := time.Now()
	t := rt.targets[wk.Target]
	if t == nil {
		return rt.finish(ctx, wk, store.Outcome{State: store.StateDead,
			Error: fmt.Sprintf("target %q is not configured any more", wk.Target)}, nil)
	}
	if reason, off := rt.disabledReason(wk.Target); off {
		return rt.finish(ctx, wk, store.Outcome{State: store.StateDead,
			Error: "target disabled: " + reason}, nil)
	}
	if rt.maxAge > 0 && now.Sub(wk.Since) > rt.maxAge {
		return rt.finish(ctx, wk, store.Outcome{State: store.StateDead,
			Error: fmt.Sprintf("older than the maximum age %s", rt.maxAge)}, nil)
	}
	if t.inflight.Add(1) > t.maxInflight {
		t.inflight.Add(-1)
		return river.JobSnooze(busyWait + spread(busyWait))
	}
	defer t.inflight.Add(-1)
	if wait := t.breaker.admit(now); wait > 0 {
		return river.JobSnooze(wait)
	}

	res, herr := rt.attempt(ctx, t, func(ctx context.Context) (hook.Result, error) { return t.Handler.Handle(ctx, &wk.Event) })
	if herr != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		// Shutting down: release the job for the next start instead of
		// counting an attempt that was cut short. At-least-once holds.
		t.breaker.record(true, now)
		return river.JobSnooze(0)
	}
	t.breaker.record(herr == nil, time.Now())

	if herr == nil {
		if err := rt.forwardCommands(ctx, t, &wk.Event, res); err != nil {
			return err
		}
	}
	a := store.Attempt{At: now, Latency: res.Latency, Status: res.Status, Response: string(res.Reply), Summary: res.Summary}
	out := rt.decide(t, wk, herr, time.Now()) // the schedule counts from the end of the attempt
	if herr != nil {
		a.Error = herr.Error()
		if hook.IsDisable(herr) {
			if err := rt.disableTarget(ctx, t.Name, herr.Error()); err != nil {
				return err
			}
		}
	}
	if err := rt.rec.record(ctx, store.Record{ID: wk.ID, Gen: wk.Gen, Attempt: &a, Outcome: out}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // replayed or discarded while we worked
		}
		return err
	}
	rt.observe(ctx, wk, out, &a, herr)
	if out.State == store.StateRetrying {
		return river.JobSnooze(max(0, time.Until(out.NextAttempt)))
	}
	return nil
}

// decide turns an attempt's error into the delivery's next state.
func (rt *Runtime) decide(t *target, wk *store.Work, herr error, now time.Time) store.Outcome {
	if herr == nil {
		return store.Outcome{State: store.StateDelivered}
	}
	msg := herr.Error()
	switch {
	case hook.IsDisable(herr):
		return store.Outcome{State: store.StateDead, Error: "target disabled: " + msg}
	case hook.IsPermanent(herr):
		return store.Outcome{State: store.StateDead, Error: msg}
	}
	n := wk.Attempts + 1 - wk.BaseAttempts // attempts in this round
	if t.Policy.MaxAttempts > 0 && n >= t.Policy.MaxAttempts {
		return store.Outcome{State: store.StateDead, Error: fmt.Sprintf("%s (gave up after %d attempts)", msg, n)}
	}
	delay := t.sched.delay(n)
	if ra, ok := hook.RetryAfterHint(herr); ok {
		delay = max(delay, min(ra, rt.raCap))
	}
	next := now.Add(delay)
	if rt.maxAge > 0 && next.Sub(wk.Since) > rt.maxAge {
		return store.Outcome{State: store.StateDead, Error: fmt.Sprintf("%s (next attempt would pass the maximum age %s)", msg, rt.maxAge)}
	}
	return store.Outcome{State: store.StateRetrying, NextAttempt: next, Error: msg}
}

// attempt calls the target's handler once (through call), under the
// target's timeout, turning a panic into a failed attempt.
func (rt *Runtime) attempt(ctx context.Context, t *target, call func(context.Context) (hook.Result, error)) (res hook.Result, err error) {
	timeout := rt.timeout
	if t.Policy.Timeout > 0 {
		timeout = t.Policy.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			rt.log.ErrorContext(ctx, "handler panicked", slog.String("target", t.Name),
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
func (rt *Runtime) forwardCommands(ctx context.Context, from *target, ev *hook.Event, res hook.Result) error {
	if len(res.Commands) == 0 || from.Name == hook.CommandsTarget {
		return nil
	}
	if _, ok := rt.targets[hook.CommandsTarget]; !ok {
		rt.log.WarnContext(ctx, "XMLMSG commands dropped: no command sink is configured ([commands] xmlmsg_url)",
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
	if _, err := rt.emitTo(ctx, hook.CommandsTarget, fields); err != nil {
		return fmt.Errorf("forward XMLMSG commands: %w", err)
	}
	return nil
}

// finish records a decision made without an attempt.
func (rt *Runtime) finish(ctx context.Context, wk *store.Work, out store.Outcome, herr error) error {
	if err := rt.db.Finish(ctx, wk.ID, wk.Gen, out); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	}
	rt.log.WarnContext(ctx, "delivery dead", slog.Int64("delivery", wk.ID), slog.String("target", wk.Target),
		slog.String("reason", out.Error))
	rt.observe(ctx, wk, out, nil, herr)
	return nil
}

func (rt *Runtime) observe(ctx context.Context, wk *store.Work, out store.Outcome, a *store.Attempt, herr error) {
	level := slog.LevelDebug
	if out.State != store.StateDelivered {
		level = slog.LevelInfo
	}
	attempts := wk.Attempts
	if a != nil {
		attempts++
	}
	if rt.log.Enabled(ctx, level) {
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
		rt.log.LogAttrs(ctx, level, "delivery attempt", attrs...)
	}
	if rt.observer == nil {
		return
	}
	o := Observation{DeliveryID: wk.ID, EventID: wk.Event.ID, Target: wk.Target, State: string(out.State),
		Attempt: attempts, Err: herr, Reason: out.Error, Next: out.NextAttempt, At: time.Now()}
	if a != nil {
		o.Status, o.Latency, o.At = a.Status, a.Latency, a.At
	}
	rt.observer(ctx, o)
}

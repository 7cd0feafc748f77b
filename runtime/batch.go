package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// maxBatch and maxBatchBytes bound one combined request (by events, and by
// the size of their fields: receivers commonly cap request bodies at 64
// KiB); a target with more pending sends the rest in the next request.
const (
	maxBatch      = 500
	maxBatchBytes = 48 << 10
)

// trimBatch keeps the oldest works whose fields fit in maxBatchBytes (at
// least one, whatever its size).
func trimBatch(works []*store.Work) []*store.Work {
	size := 0
	for i, wk := range works {
		for k, v := range wk.Event.Fields {
			size += len(k) + len(v) + 8 // separators, index suffix
		}
		if size > maxBatchBytes && i > 0 {
			return works[:i]
		}
	}
	return works
}

// batchWorker sends a combining target's pending deliveries together, once
// per interval, oldest first. There is at most one batch job per target
// (store.ArmBatch), so requests of one target never overlap or reorder,
// on one node or several.
type batchWorker struct {
	river.WorkerDefaults[batchArgs]
	rt *Runtime
}

func (w *batchWorker) Work(ctx context.Context, j *river.Job[batchArgs]) error {
	rt := w.rt
	name := j.Args.Target
	works, failures, err := rt.db.TakeBatch(ctx, name, maxBatch)
	if err != nil {
		return err
	}
	if len(works) == 0 {
		return nil // disarmed: the next emit schedules a new job
	}
	t := rt.targets[name]
	now := time.Now()
	var dead string
	switch reason, off := rt.disabledReason(name); {
	case t == nil:
		dead = fmt.Sprintf("target %q is not configured any more", name)
	case off:
		dead = "target disabled: " + reason
	}
	if dead != "" {
		for _, wk := range works {
			if err := rt.finish(ctx, wk, store.Outcome{State: store.StateDead, Error: dead}, nil); err != nil {
				return err
			}
		}
		return river.JobSnooze(0)
	}
	live := works[:0]
	for _, wk := range works {
		if rt.maxAge > 0 && now.Sub(wk.Since) > rt.maxAge {
			out := store.Outcome{State: store.StateDead, Error: fmt.Sprintf("older than the maximum age %s", rt.maxAge)}
			if err := rt.finish(ctx, wk, out, nil); err != nil {
				return err
			}
			continue
		}
		live = append(live, wk)
	}
	if len(live) == 0 {
		return river.JobSnooze(0)
	}
	more := len(works) == maxBatch
	if trimmed := trimBatch(live); len(trimmed) < len(live) {
		live, more = trimmed, true
	}
	if wait := t.breaker.admit(now); wait > 0 {
		return river.JobSnooze(wait)
	}
	evs := make([]*hook.Event, len(live))
	for i, wk := range live {
		evs[i] = &wk.Event
	}
	bh := t.Handler.(hook.BatchHandler) // checked when the target was added
	res, herr := rt.attempt(ctx, t, func(ctx context.Context) (hook.Result, error) { return bh.HandleBatch(ctx, evs) })
	if herr != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		t.breaker.record(true, now)
		return river.JobSnooze(0)
	}
	end := time.Now()
	t.breaker.record(herr == nil, end)
	if herr == nil {
		if err := rt.forwardCommands(ctx, t, evs[0], res); err != nil {
			return err
		}
	}
	a := store.Attempt{At: now, Latency: res.Latency, Status: res.Status, Response: string(res.Reply), Summary: res.Summary}
	if herr != nil {
		a.Error = herr.Error()
		if hook.IsDisable(herr) {
			if err := rt.disableTarget(ctx, name, herr.Error()); err != nil {
				return err
			}
		}
	}
	recs := make([]store.Record, len(live))
	outs := make([]store.Outcome, len(live))
	for i, wk := range live {
		outs[i] = rt.decide(t, wk, herr, end)
		recs[i] = store.Record{ID: wk.ID, Gen: wk.Gen, Attempt: &a, Outcome: outs[i]}
	}
	for i, err := range rt.db.RecordAttempts(ctx, recs) {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err == nil {
			rt.observe(ctx, live[i], outs[i], &a, herr)
		}
	}
	if herr == nil {
		if err := rt.db.BatchFailures(ctx, name, 0); err != nil {
			return err
		}
		if more {
			return river.JobSnooze(0) // more are waiting
		}
		return river.JobSnooze(t.Policy.Combine)
	}
	failures++
	if err := rt.db.BatchFailures(ctx, name, failures); err != nil {
		return err
	}
	delay := t.sched.delay(failures)
	if ra, ok := hook.RetryAfterHint(herr); ok {
		delay = max(delay, min(ra, rt.raCap))
	}
	return river.JobSnooze(delay)
}

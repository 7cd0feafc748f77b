package engine

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// deliveryWorker makes one delivery attempt per River job run.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	e *Engine
}

// Work loads the delivery, runs the attempt algorithm on it and snoozes
// the job until the next attempt is due. Returning an error (only for
// store failures) lets River retry the job with its own backoff;
// everything else is hookd's decision.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	e := w.e
	wk, err := e.db.LoadWork(ctx, job.Args.DeliveryID)
	if errors.Is(err, hook.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if wk.Gen != job.Args.Gen || !wk.State.Live() {
		return nil // replayed, discarded or already finished: this job is stale
	}
	t := e.acquire(wk.Target)
	defer t.done()
	live, wait, err := e.preflight(ctx, wk.Target, t, []*store.Work{wk})
	switch {
	case err != nil:
		return err
	case wait > 0:
		return e.snooze(wait)
	case len(live) == 0:
		return nil
	}
	r, err := e.attempt(ctx, t, live, false, func(ctx context.Context) (hook.Result, error) { return t.Handler.Handle(ctx, &wk.Event) })
	switch {
	case err != nil:
		return err
	case !r.attempted:
		return e.snooze(r.wait)
	case r.recorded[0] && r.outcomes[0].State == hook.StateRetrying:
		return e.snooze(max(0, time.Until(r.outcomes[0].NextAttempt)))
	}
	return nil
}

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
	e *Engine
}

func (w *batchWorker) Work(ctx context.Context, j *river.Job[batchArgs]) error {
	e := w.e
	name := j.Args.Target
	works, failures, err := e.db.TakeBatch(ctx, name, maxBatch)
	if err != nil {
		return err
	}
	if len(works) == 0 {
		return nil // disarmed: the next emit schedules a new job
	}
	t := e.acquire(name)
	defer t.done()
	live, wait, err := e.preflight(ctx, name, t, works)
	switch {
	case err != nil:
		return err
	case wait > 0 && t == nil:
		// Not known on this node: the batch job looks again later.
		return e.snooze(wait)
	case wait > 0:
		// Paused: the target's one batch job looks again soon, since a
		// resume cannot arm a second one beside it.
		return e.snooze(2*stateRefresh + spread(time.Second))
	case len(live) == 0:
		return e.snooze(0) // take the next ones
	}
	more := len(works) == maxBatch
	if trimmed := trimBatch(live); len(trimmed) < len(live) {
		live, more = trimmed, true
	}
	evs := make([]*hook.Event, len(live))
	for i, wk := range live {
		evs[i] = &wk.Event
	}
	bh := t.Handler.(hook.BatchHandler) // checked when the target was added
	r, err := e.attempt(ctx, t, live, false, func(ctx context.Context) (hook.Result, error) { return bh.HandleBatch(ctx, evs) })
	switch {
	case err != nil:
		return err
	case !r.attempted:
		return e.snooze(r.wait)
	case r.err == nil:
		if err := e.db.BatchFailures(ctx, name, 0); err != nil {
			return err
		}
		if more {
			return e.snooze(0) // more are waiting
		}
		return e.snooze(t.Policy.Combine)
	}
	failures++
	if err := e.db.BatchFailures(ctx, name, failures); err != nil {
		return err
	}
	return e.snooze(e.retryDelay(t, failures, r.err))
}

// snooze has River run the job again after d, and the retry clock make it
// available on time (retryclock.go).
func (e *Engine) snooze(d time.Duration) error {
	e.clock.Load().noteSnooze(d)
	return river.JobSnooze(d)
}

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// ListDeliveries returns deliveries matching f, newest first.
func (e *Engine) ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	ds, err := e.db.ListDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	e.explainHeld(ctx, ds)
	return ds, nil
}

// Delivery returns one delivery with its event and attempts.
func (e *Engine) Delivery(ctx context.Context, id int64) (*hook.Delivery, error) {
	d, err := e.db.GetDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.State.Live() {
		ds := []hook.Delivery{*d}
		e.explainHeld(ctx, ds)
		d.Held = ds[0].Held
	}
	return d, nil
}

// Retry replays a delivery now: a dead or discarded one gets a fresh
// attempt budget and age; a retrying one is attempted at once instead of
// at its scheduled time. A delivered one cannot be replayed.
//
// A delivery of a disabled or paused target is refused (an error matching
// hook.ErrConflict that names the target's state) unless force: see
// [Engine.ReplayRefusal].
func (e *Engine) Retry(ctx context.Context, id int64, force bool) error {
	if !force { // before the transaction: on SQLite it holds the only connection
		target, err := e.db.DeliveryTarget(ctx, id)
		if err != nil {
			return err
		}
		if err := e.ReplayRefusal(ctx, target); err != nil {
			return err
		}
	}
	return e.db.InTx(ctx, func(tx store.Tx) error {
		gen, target, err := store.Requeue(ctx, tx, id)
		if err != nil {
			return err
		}
		e.log.InfoContext(ctx, "delivery replayed by operator", slog.Int64("delivery", id))
		// It rides with the target's next combined request, or waits
		// for its key's turn (at once if it is the oldest), or has a job.
		em := emission{e: e, tx: tx, now: time.Now()}
		if err := em.rejob(ctx, []again{{id: id, gen: gen, target: target}}); err != nil {
			return err
		}
		return em.flush(ctx)
	})
}

// replayBatch is how many deliveries one transaction of RetryMatching
// replays.
const replayBatch = 500

// RetryMatching replays every delivery in state (dead, discarded or
// retrying) of target ("" for all) created at or after since, as Retry
// does for one, in transactions of replayBatch, and returns how many.
// limit > 0 stops it after that many (oldest first), so that a client can
// replay a large set in rounds and show progress; 0 replays all.
//
// A replayed delivery no longer matches (it is pending), so each batch
// takes the next ones; one that fails again and is back in state before
// the loop ends can be taken twice, which a limit bounds.
//
// Unless force, nothing is replayed when a target of the matching
// deliveries is disabled or paused (see [Engine.ReplayRefusal]).
func (e *Engine) RetryMatching(ctx context.Context, state hook.DeliveryState, target string, since time.Time, limit int, force bool) (int, error) {
	switch state {
	case hook.StateDead, hook.StateDiscarded, hook.StateRetrying:
	default:
		return 0, fmt.Errorf("only dead, discarded or retrying deliveries can be replayed, not %q: %w", state, hook.ErrConflict)
	}
	if limit < 0 {
		return 0, fmt.Errorf("replay limit %d: must be 0 (all) or more", limit)
	}
	if target != "" {
		if _, err := e.target(target); err != nil {
			return 0, err
		}
	}
	if !force {
		names := []string{target}
		if target == "" {
			var err error
			if names, err = e.db.ReplayTargets(ctx, state, since); err != nil {
				return 0, err
			}
		}
		for _, name := range names {
			if err := e.ReplayRefusal(ctx, name); err != nil {
				return 0, err
			}
		}
	}
	total := 0
	for limit == 0 || total < limit {
		batch := replayBatch
		if limit > 0 {
			batch = min(batch, limit-total)
		}
		var n int
		err := e.db.InTx(ctx, func(tx store.Tx) error {
			rs, err := store.RequeueMatching(ctx, tx, state, target, since, batch)
			if err != nil {
				return err
			}
			n = len(rs)
			em := emission{e: e, tx: tx, now: time.Now()}
			ds := make([]again, len(rs))
			for i, r := range rs {
				ds[i] = again{id: r.ID, gen: r.Gen, target: r.Target}
			}
			if err := em.rejob(ctx, ds); err != nil {
				return err
			}
			return em.flush(ctx)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < batch {
			break
		}
	}
	e.log.InfoContext(ctx, "deliveries replayed by operator", slog.Int("count", total), slog.String("state", string(state)),
		slog.String("target", target), slog.Time("since", since), slog.Int("limit", limit))
	return total, nil
}

// Discard stops a delivery for good (it can still be replayed).
func (e *Engine) Discard(ctx context.Context, id int64) error {
	if err := e.db.Discard(ctx, id); err != nil {
		return err
	}
	e.log.InfoContext(ctx, "delivery discarded by operator", slog.Int64("delivery", id))
	if err := e.wakeKeyOf(ctx, id); err != nil {
		// Discarded all the same: its key's job goes on at the time
		// it was waiting for.
		e.log.WarnContext(ctx, "the key of a discarded ordered delivery was not woken", slog.Int64("delivery", id), slog.Any("error", err))
	}
	return nil
}

// SessionEvents returns the record of a session: its events in order,
// each with the outcome at every target.
func (e *Engine) SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error) {
	return e.db.SessionEvents(ctx, sessionID, 1000)
}

// ReplayRefusal says why replaying deliveries of the target name now would
// not deliver them: it is disabled (they would go straight back to dead)
// or paused (they would wait until it is resumed). The error matches
// hook.ErrConflict and names the state, its reason and who set it; nil
// when the target is enabled (or not configured: its replay fails as it
// always did).
func (e *Engine) ReplayRefusal(ctx context.Context, name string) error {
	row, off, err := e.targetState(ctx, name)
	if err != nil || !off {
		return err
	}
	then := "its replayed deliveries would go straight back to dead; enable it first"
	if row.State == hook.TargetPaused {
		then = "its replayed deliveries would wait until it is resumed; resume it first"
	}
	return fmt.Errorf("target %s is %s by %s (%s): %s, or force the replay: %w",
		name, row.State, row.Actor, row.Reason, then, ErrReplayRefused)
}

// ErrReplayRefused is matched by the error of a replay refused because of
// its target's state (see [Engine.ReplayRefusal]), so that a view can
// offer to force it; it also matches hook.ErrConflict.
var ErrReplayRefused error = replayRefused{}

type replayRefused struct{}

func (replayRefused) Error() string        { return hook.ErrConflict.Error() }
func (replayRefused) Is(target error) bool { return target == hook.ErrConflict }

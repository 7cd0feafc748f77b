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
	return e.db.ListDeliveries(ctx, f)
}

// Delivery returns one delivery with its event and attempts.
func (e *Engine) Delivery(ctx context.Context, id int64) (*hook.Delivery, error) {
	return e.db.GetDelivery(ctx, id)
}

// Retry replays a delivery now: a dead or discarded one gets a fresh
// attempt budget and age; a retrying one is attempted at once instead of
// at its scheduled time. A delivered one cannot be replayed.
func (e *Engine) Retry(ctx context.Context, id int64) error {
	return e.db.InTx(ctx, func(tx store.Tx) error {
		gen, target, err := store.Requeue(ctx, tx, id)
		if err != nil {
			return err
		}
		e.log.InfoContext(ctx, "delivery replayed by operator", slog.Int64("delivery", id))
		em := emission{e: e, tx: tx, now: time.Now()}
		if t := e.targets[target]; t != nil && t.Policy.Combine > 0 {
			// It rides with the target's next combined request.
			if err := em.arm(ctx, t); err != nil {
				return err
			}
		} else {
			em.jobs = append(em.jobs, job{args: deliveryArgs{DeliveryID: id, Gen: gen}})
		}
		return em.flush(ctx)
	})
}

// Discard stops a delivery for good (it can still be replayed).
func (e *Engine) Discard(ctx context.Context, id int64) error {
	if err := e.db.Discard(ctx, id); err != nil {
		return err
	}
	e.log.InfoContext(ctx, "delivery discarded by operator", slog.Int64("delivery", id))
	return nil
}

// EnableTarget lifts the disabling of a target (after it answered 410).
// Its dead deliveries stay dead until replayed.
func (e *Engine) EnableTarget(ctx context.Context, name string) error {
	if _, ok := e.targets[name]; !ok {
		return fmt.Errorf("target %q: %w", name, hook.ErrNotFound)
	}
	if err := e.db.EnableTarget(ctx, name); err != nil {
		return err
	}
	e.mu.Lock()
	delete(e.disabled, name)
	e.mu.Unlock()
	return nil
}

func (e *Engine) disableTarget(ctx context.Context, name, reason string) error {
	if err := e.db.DisableTarget(ctx, name, reason); err != nil {
		return err
	}
	e.mu.Lock()
	e.disabled[name] = reason
	e.mu.Unlock()
	e.log.WarnContext(ctx, "target disabled", slog.String("target", name), slog.String("reason", reason))
	return nil
}

func (e *Engine) disabledReason(name string) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, ok := e.disabled[name]
	return r, ok
}

// SessionEvents returns the record of a session: its events in order,
// each with the outcome at every target.
func (e *Engine) SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error) {
	return e.db.SessionEvents(ctx, sessionID, 1000)
}

package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/internal/store"
)

// ListDeliveries returns deliveries matching f, newest first.
func (rt *Runtime) ListDeliveries(ctx context.Context, f store.Filter) ([]store.Delivery, error) {
	return rt.db.ListDeliveries(ctx, f)
}

// GetDelivery returns one delivery with its event and attempts.
func (rt *Runtime) GetDelivery(ctx context.Context, id int64) (*store.Delivery, error) {
	return rt.db.GetDelivery(ctx, id)
}

// RetryDelivery replays a delivery now: a dead or discarded one gets a fresh
// attempt budget and age; a retrying one is attempted at once instead of at
// its scheduled time. A delivered one cannot be replayed.
func (rt *Runtime) RetryDelivery(ctx context.Context, id int64) error {
	return rt.db.InTx(ctx, func(tx store.Tx) error {
		gen, target, err := store.Requeue(ctx, tx, id)
		if err != nil {
			return err
		}
		rt.log.InfoContext(ctx, "delivery replayed by operator", slog.Int64("delivery", id))
		e := emission{rt: rt, tx: tx, now: time.Now()}
		if t := rt.targets[target]; t != nil && t.Policy.Combine > 0 {
			// It rides with the target's next combined request.
			if err := e.arm(ctx, t); err != nil {
				return err
			}
		} else {
			e.jobs = append(e.jobs, job{args: deliveryArgs{DeliveryID: id, Gen: gen}})
		}
		return e.flush(ctx)
	})
}

// DiscardDelivery stops a delivery for good (it can still be replayed).
func (rt *Runtime) DiscardDelivery(ctx context.Context, id int64) error {
	if err := rt.db.Discard(ctx, id); err != nil {
		return err
	}
	rt.log.InfoContext(ctx, "delivery discarded by operator", slog.Int64("delivery", id))
	return nil
}

// EnableTarget lifts the disabling of a target (after it answered 410).
// Its dead deliveries stay dead until replayed.
func (rt *Runtime) EnableTarget(ctx context.Context, name string) error {
	if _, ok := rt.targets[name]; !ok {
		return fmt.Errorf("target %q: %w", name, store.ErrNotFound)
	}
	if err := rt.db.EnableTarget(ctx, name); err != nil {
		return err
	}
	rt.mu.Lock()
	delete(rt.disabled, name)
	rt.mu.Unlock()
	return nil
}

func (rt *Runtime) disableTarget(ctx context.Context, name, reason string) error {
	if err := rt.db.DisableTarget(ctx, name, reason); err != nil {
		return err
	}
	rt.mu.Lock()
	rt.disabled[name] = reason
	rt.mu.Unlock()
	rt.log.WarnContext(ctx, "target disabled", slog.String("target", name), slog.String("reason", reason))
	return nil
}

func (rt *Runtime) disabledReason(name string) (string, bool) {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	r, ok := rt.disabled[name]
	return r, ok
}

// SessionEvents returns the record of a session: its events in order, each
// with the outcome at every target. Empty unless a module saves sessions
// ([http_events] save_to_session = true).
func (rt *Runtime) SessionEvents(ctx context.Context, sessionID string) ([]store.SessionEvent, error) {
	return rt.db.SessionEvents(ctx, sessionID, 1000)
}

// JWKS returns the public keys of every module that signs, as a JWK set.
func (rt *Runtime) JWKS() []byte { return rt.jwks }

// Health reports whether the store answers.
func (rt *Runtime) Health(ctx context.Context) error { return rt.db.Ping(ctx) }

package runtime

import (
	"context"
	"fmt"
	"log/slog"

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
		gen, err := store.Requeue(ctx, tx, id)
		if err != nil {
			return err
		}
		rt.log.InfoContext(ctx, "delivery replayed by operator", slog.Int64("delivery", id))
		return rt.q.insert(ctx, tx, []deliveryArgs{{DeliveryID: id, Gen: gen}})
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

// JWKS returns the public keys of every module that signs, as a JWK set.
func (rt *Runtime) JWKS() []byte { return rt.jwks }

// Health reports whether the store answers.
func (rt *Runtime) Health(ctx context.Context) error { return rt.db.Ping(ctx) }

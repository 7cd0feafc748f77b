package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestPruneState: the prune job deletes expired plugin state, whatever the
// retention of the delivery history, and keeps the rest.
func TestPruneState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		e := open(t, st, fast(), hooktest.NewObservations())
		e.SetRetention(engine.RetentionOptions{}) // history kept for ever
		s := store.PluginState{DB: e.DB()}
		ctx := context.Background()
		lim := hook.StateLimits{MaxValue: 64, MaxKeys: 10, MaxBytes: 1 << 10}
		if err := s.Set(ctx, "acme", "window", []byte("1"), time.Hour, lim); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, "acme", "forever", []byte("1"), 0, lim); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Prune(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB().GetState(ctx, "acme", "window", time.Now()); err != nil {
			t.Fatalf("pruned before it expired: %v", err)
		}
		later := time.Now().Add(2 * time.Hour)
		if _, err := e.Prune(ctx, later); err != nil {
			t.Fatal(err)
		}
		// Read as of before the expiry: only a deleted key is absent then.
		if _, err := e.DB().GetState(ctx, "acme", "window", time.Now()); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("expired key after pruning: %v", err)
		}
		if _, err := e.DB().GetState(ctx, "acme", "forever", later); err != nil {
			t.Errorf("a key without expiry: %v", err)
		}
	})
}

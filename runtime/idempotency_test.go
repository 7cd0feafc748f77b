package runtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestEmitWithKey: an event sent twice with one idempotency key is
// committed once, even when the repeats race or come through another node;
// the key with other fields is a conflict.
func TestEmitWithKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		rt := open(t, testConfig(st), hookrt.WithoutWorkers(),
			hookrt.WithTarget(hook.Target{Name: "t", Handler: hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
				return hook.Result{}, nil
			})}))
		ctx := context.Background()
		first, repeated, err := rt.EmitWithKey(ctx, "user-1-created", userCreate(1))
		if err != nil || repeated {
			t.Fatalf("first emit: %s %v %v", first, repeated, err)
		}
		id, repeated, err := rt.EmitWithKey(ctx, "user-1-created", userCreate(1))
		if err != nil || !repeated || id != first {
			t.Errorf("repeat: %s %v %v; want %s, repeated", id, repeated, err, first)
		}
		if _, _, err := rt.EmitWithKey(ctx, "user-1-created", userCreate(2)); !errors.Is(err, hook.ErrConflict) {
			t.Errorf("the key with other fields: %v; want a conflict", err)
		}
		if _, _, err := rt.EmitWithKey(ctx, "bad\nkey", userCreate(1)); !errors.Is(err, hook.ErrInvalidEvent) {
			t.Errorf("a key with a control character: %v", err)
		}

		// Racing repeats: one commits, the others get its ID.
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ids     = map[string]int{}
			commits int
		)
		for range 8 {
			wg.Go(func() {
				id, repeated, err := rt.EmitWithKey(ctx, "race", userCreate(3))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("racing emit: %v", err)
				}
				ids[id]++
				if !repeated {
					commits++
				}
			})
		}
		wg.Wait()
		if len(ids) != 1 || commits != 1 {
			t.Errorf("racing repeats gave IDs %v with %d commits; want one ID, one commit", ids, commits)
		}

		if st.Driver == hookrt.DriverPostgres { // another node knows the key
			other := open(t, testConfig(st), hookrt.WithoutWorkers(), hookrt.WithTarget(hook.Target{Name: "t",
				Handler: hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })}))
			id, repeated, err := other.EmitWithKey(ctx, "user-1-created", userCreate(1))
			if err != nil || !repeated || id != first {
				t.Errorf("repeat on another node: %s %v %v", id, repeated, err)
			}
		}
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{})
		if err != nil || len(ds) != 2 {
			t.Errorf("deliveries: %d, %v; want one per distinct event (2)", len(ds), err)
		}
	})
}

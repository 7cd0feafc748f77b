package runtime_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestEmitWithKey: an event sent twice with one idempotency key is
// committed once, even when the repeats race or come through another node;
// the key with other fields is a conflict.
func TestEmitWithKey(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
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

// TestEmitManyWithKey: a batch is committed all or none, and its key
// covers the whole batch: a repeat gets the same EVENT_IDs, in order.
func TestEmitManyWithKey(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		rt := open(t, testConfig(st), hookrt.WithoutWorkers(),
			hookrt.WithTarget(hook.Target{Name: "t", Handler: hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
				return hook.Result{}, nil
			})}))
		ctx := context.Background()
		batch := []map[string]string{userCreate(1), userCreate(2), userCreate(3)}
		first, repeated, err := rt.EmitManyWithKey(ctx, "import-7", batch)
		if err != nil || repeated || len(first) != 3 {
			t.Fatalf("first batch: %v %v %v", first, repeated, err)
		}
		again, repeated, err := rt.EmitManyWithKey(ctx, "import-7", batch)
		if err != nil || !repeated || !slices.Equal(again, first) {
			t.Errorf("repeat: %v %v %v; want %v, repeated", again, repeated, err, first)
		}
		if _, _, err := rt.EmitManyWithKey(ctx, "import-7", batch[:2]); !errors.Is(err, hook.ErrConflict) ||
			!strings.Contains(err.Error(), "a batch of 3 events") {
			t.Errorf("the key with fewer events: %v; want a conflict naming the batch", err)
		}

		// One bad event refuses the batch, and says which.
		bad := []map[string]string{userCreate(4), {"MODULE": "ISL_CP"}, userCreate(5)}
		if _, err := rt.EmitMany(ctx, bad); !errors.Is(err, hook.ErrInvalidEvent) ||
			!strings.HasPrefix(err.Error(), "event 2 of 3: ") {
			t.Errorf("a batch with a bad event: %v", err)
		}
		if ids, err := rt.EmitMany(ctx, nil); err != nil || len(ids) != 0 {
			t.Errorf("an empty batch: %v %v", ids, err)
		}
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{})
		if err != nil || len(ds) != 3 {
			t.Errorf("deliveries: %d, %v; want the first batch's 3", len(ds), err)
		}
	})
}

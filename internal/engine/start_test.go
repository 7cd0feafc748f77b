package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestNewThenStart: New opens the store without workers, so that modules
// can be provisioned with it before their targets exist; what is emitted
// meanwhile is stored and delivered once Start runs.
func TestNewThenStart(t *testing.T) {
	storetest.Run(t, testNewThenStart)
}

func testNewThenStart(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	e, err := engine.New(ctx, engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: fast(), ServerID: "test", Observer: obs.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	if e.DB() == nil || len(e.Targets()) != 0 {
		t.Fatalf("a new engine: store %v, targets %v", e.DB(), e.Targets())
	}
	called := make(chan string, 4)
	h := hook.HandlerFunc(func(_ context.Context, ev *hook.Event) (hook.Result, error) {
		called <- ev.ID
		return hook.Result{}, nil
	})
	if err := e.SetTargets(ctx, []hook.Target{{Name: "a", Handler: h}}, nil); err != nil {
		t.Fatal(err)
	}
	id, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "before start"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{EventID: id})
	if err != nil || len(ds) != 1 || ds[0].State != hook.StatePending {
		t.Fatalf("before Start: %+v, %v", ds, err)
	}
	select {
	case got := <-called:
		t.Fatalf("event %s delivered before Start", got)
	default:
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := await(t, "the delivery after Start", called); got != id {
		t.Errorf("delivered %s, want %s", got, id)
	}
	obs.Wait(t, "the delivery recorded", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") == 1
	})
	if err := e.Start(ctx); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("second Start: %v", err)
	}
	// River's job timeout is fixed by Start: a slower target is refused.
	slow := hook.Target{Name: "slow", Handler: h, Policy: hook.Policy{Timeout: time.Hour}}
	if err := e.SetTargets(ctx, []hook.Target{slow}, nil); err == nil || !strings.Contains(err.Error(), "restart the node") {
		t.Errorf("SetTargets of a slower target after Start: %v", err)
	}
}

// TestCloseUnstarted: an engine that never started closes cleanly, and
// cannot be started afterwards.
func TestCloseUnstarted(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Options{Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path}, Delivery: fast()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); !errors.Is(err, hook.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	// The store is free again: a new engine opens it.
	e2, err := engine.New(ctx, engine.Options{Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path}, Delivery: fast()})
	if err != nil {
		t.Fatal(err)
	}
	e2.Close(ctx)
}

package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// open opens an engine on st with the delivery options d.
func open(t *testing.T, st hookrt.StoreConfig, d engine.DeliveryOptions, obs *hooktest.Observations, targets ...hook.Target) *engine.Engine {
	t.Helper()
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: d,
		ServerID: "test",
		Targets:  targets,
		Observer: obs.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	return e
}

// closeAtEnd closes e when t ends, within hooktest.Patience: a Close that
// hangs fails the test that caused it instead of the whole package
// running into its timeout, nameless.
func closeAtEnd(t testing.TB, e *engine.Engine) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hooktest.Patience)
		defer cancel()
		if err := e.Close(ctx); err != nil && ctx.Err() != nil {
			t.Errorf("Close did not finish within %s: %v", hooktest.Patience, err)
		}
	})
}

func fast() engine.DeliveryOptions {
	return engine.DeliveryOptions{
		Schedule: []time.Duration{50 * time.Millisecond}, Timeout: 10 * time.Second, MaxAge: time.Hour,
		Workers: 8, RetryAfterCap: time.Hour, BreakerThreshold: 1000, BreakerCooldown: time.Second,
		PollInterval: 20 * time.Millisecond,
	}
}

// TestAutoDisable: a target that fails every attempt for DisableAfter is
// disabled on its own, by "hookd", and the command sink is told.
func TestAutoDisable(t *testing.T) {
	storetest.Run(t, testAutoDisable)
}

func testAutoDisable(t *testing.T, st hookrt.StoreConfig) {
	d := fast()
	d.DisableAfter = 300 * time.Millisecond
	obs := hooktest.NewObservations()
	notices := make(chan *hook.Event, 4)
	down := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Status: 503}, errors.New("HTTP 503")
	})
	sink := hook.HandlerFunc(func(_ context.Context, ev *hook.Event) (hook.Result, error) {
		notices <- ev
		return hook.Result{}, nil
	})
	e := open(t, st, d, obs, hook.Target{Name: "down", Handler: down},
		hook.Target{Name: hook.CommandsTarget, Handler: sink, Match: hook.Never})
	if _, err := e.Emit(context.Background(), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}); err != nil {
		t.Fatal(err)
	}
	seen := obs.Wait(t, "the delivery dead once the target is disabled", func(o []hook.Observation) bool {
		return hooktest.Count(o, "dead", "down") == 1
	})
	if last := seen[len(seen)-1]; !strings.Contains(last.Reason, "target disabled: every attempt failed for") {
		t.Errorf("dead because %q", last.Reason)
	}
	ts, err := e.TargetStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Name != "down" || ts[0].State != hook.TargetDisabled || ts[0].ChangedBy != "hookd" {
		t.Errorf("status %+v", ts[0])
	}
	select {
	case ev := <-notices:
		doc := ev.Get(hook.CommandFieldXML)
		if ev.Name() != "TARGET_DISABLED" || !strings.Contains(doc, `<target name="down" state="disabled">every attempt failed`) {
			t.Errorf("announcement %s: %s", ev.Name(), doc)
		}
	case <-time.After(hooktest.Patience):
		t.Fatal("the command sink was not told")
	}
}

// TestPrune: history goes once final and past its retention; a live
// delivery (retrying) never goes, nor its event; dead letters follow their
// own retention; expired idempotency keys go.
func TestPrune(t *testing.T) {
	storetest.Run(t, testPrune)
}

func testPrune(t *testing.T, st hookrt.StoreConfig) {
	obs := hooktest.NewObservations()
	ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
	perm := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{}, hook.Permanent(errors.New("no such user"))
	})
	down := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, errors.New("HTTP 503") })
	only := func(name string) func(*hook.Event) bool {
		return func(ev *hook.Event) bool { return ev.Get("TO") == name }
	}
	d := fast()
	d.Schedule = []time.Duration{time.Hour} // the retrying one stays retrying
	d.MaxAge = 100 * time.Hour
	e := open(t, st, d, obs,
		hook.Target{Name: "ok", Handler: ok, Match: only("ok")},
		hook.Target{Name: "perm", Handler: perm, Match: only("perm")},
		hook.Target{Name: "down", Handler: down, Match: only("down")})
	e.SetRetention(engine.RetentionOptions{Keep: time.Hour, Dead: 3 * time.Hour, Idempotency: 24 * time.Hour})
	ctx := context.Background()
	ids := map[string]string{}
	for _, to := range []string{"ok", "perm", "down"} {
		id, _, err := e.EmitWithKey(ctx, "key-"+to, map[string]string{"MODULE": "M", "EVENT": "E", "TO": to})
		if err != nil {
			t.Fatal(err)
		}
		ids[to] = id
	}
	obs.Wait(t, "one delivered, one dead, one retrying", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", "ok") == 1 && hooktest.Count(o, "dead", "perm") == 1 && hooktest.Count(o, "retrying", "down") == 1
	})
	left := func() []string {
		t.Helper()
		ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range ds {
			names = append(names, d.Target)
		}
		return names
	}
	if n, err := e.Prune(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("pruning now: %d, %v; nothing is old enough", n, err)
	}
	if n, err := e.Prune(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 1 || fmt.Sprint(left()) != "[down perm]" {
		t.Fatalf("pruning 2h on: %d, %v, left %v; want the delivered one gone", n, err, left())
	}
	if n, err := e.Prune(ctx, time.Now().Add(4*time.Hour)); err != nil || n != 1 || fmt.Sprint(left()) != "[down]" {
		t.Fatalf("pruning 4h on: %d, %v, left %v; want the dead one gone, the retrying one kept", n, err, left())
	}
	if _, err := e.Prune(ctx, time.Now().Add(1000*time.Hour)); err != nil || fmt.Sprint(left()) != "[down]" {
		t.Fatalf("a live delivery was pruned: %v, left %v", err, left())
	}
	// The keys are gone after 24h: the key of the delivered event is free.
	id, repeated, err := e.EmitWithKey(ctx, "key-ok", map[string]string{"MODULE": "M", "EVENT": "E", "TO": "ok"})
	if err != nil || repeated || id == ids["ok"] {
		t.Errorf("after the keys expired: %s %v %v; want a new event", id, repeated, err)
	}
}

package engine_test

import (
	"context"
	"errors"
	"github.com/hookrt/hookd/internal/testsupport"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// gate is a handler that reports each call and holds it until released,
// then answers with err.
type gate struct {
	entered  chan string
	release  chan error
	finished atomic.Int64
}

func newGate() *gate { return &gate{entered: make(chan string, 16), release: make(chan error, 16)} }

// open lets every call through from now on.
func (g *gate) open() { close(g.release) }

func (g *gate) Handle(_ context.Context, ev *hook.Event) (hook.Result, error) {
	g.entered <- ev.ID
	err := <-g.release
	g.finished.Add(1)
	return hook.Result{}, err
}

func named(id string) hook.Handler {
	return hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Summary: id}, nil
	})
}

// TestSetTargetsReplaces: a target replaced by SetTargets gets the emits
// that follow, Handler returns the new handler, and SetTargets returns
// only once the replaced handler's attempt in flight has finished (with an
// ended context: at once, saying which target is still busy).
func TestSetTargetsReplaces(t *testing.T) {
	storetest.Run(t, testSetTargetsReplaces)
}

func testSetTargetsReplaces(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	old := newGate()
	e := open(t, st, fast(), obs, hook.Target{Name: "a", Handler: old})
	t.Cleanup(old.open) // before Close, should the test fail holding it
	if h, ok := e.Handler("a"); !ok || h != hook.Handler(old) {
		t.Fatalf("Handler(a) = %v, %v", h, ok)
	}
	if _, ok := e.Handler("nope"); ok {
		t.Fatal("Handler of an unknown target found")
	}
	if _, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "first"}); err != nil {
		t.Fatal(err)
	}
	await(t, "the old handler's attempt in flight", old.entered)

	// A context that has ended: the set changes, and the error says that
	// an attempt of the replaced target is still in flight.
	done, cancel := context.WithCancel(ctx)
	cancel()
	fresh := newGate()
	t.Cleanup(fresh.open)
	err := e.SetTargets(done, []hook.Target{{Name: "a", Handler: fresh}}, nil)
	if err == nil || !strings.Contains(err.Error(), `target "a" still has attempts in flight`) {
		t.Fatalf("SetTargets with an ended context: %v", err)
	}
	if h, _ := e.Handler("a"); h != hook.Handler(fresh) {
		t.Fatal("the set did not change")
	}
	old.release <- nil
	obs.Wait(t, "the first event delivered by the old handler", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") == 1
	})

	// With a live context it waits for the attempt in flight: fresh holds
	// the second event until released, and SetTargets cannot have
	// returned before that attempt ended (the handler counts its end
	// before it returns, and the target's use ends after that).
	if _, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "second"}); err != nil {
		t.Fatal(err)
	}
	await(t, "the fresh handler's attempt in flight", fresh.entered)
	newest := named("newest")
	returned := make(chan error, 1)
	go func() {
		err := e.SetTargets(ctx, []hook.Target{{Name: "a", Handler: newest}}, nil)
		if err == nil && fresh.finished.Load() == 0 {
			err = errors.New("SetTargets returned while the replaced handler's attempt was in flight")
		}
		returned <- err
	}()
	fresh.release <- nil
	if err := await(t, "SetTargets to return", returned); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the second event delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") == 2
	})
	if _, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "third"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the third event delivered by the newest handler", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") == 3
	})
	if old.finished.Load() != 1 || fresh.finished.Load() != 1 {
		t.Errorf("old handler called %d times, fresh %d; want 1 and 1", old.finished.Load(), fresh.finished.Load())
	}
}

// await receives from ch within hooktest.Patience, or fails t saying what
// it waited for: a test that hangs names itself instead of running into
// the package's timeout.
func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hooktest.Patience):
		t.Fatalf("waited %s for %s", hooktest.Patience, what)
		panic("unreachable")
	}
}

// TestSetTargetsChecks: a set the engine cannot run is refused and
// nothing changes; so are unknown and contradictory removals.
func TestSetTargetsChecks(t *testing.T) {
	st := storetest.SQLite(t)
	e := open(t, st, fast(), hooktest.NewObservations(), hook.Target{Name: "a", Handler: named("a")})
	ctx := context.Background()
	for _, c := range []struct {
		add    []hook.Target
		remove []string
		want   string
	}{
		{[]hook.Target{{Name: "b"}}, nil, "a target needs a name and a handler"},
		{[]hook.Target{{Name: "b", Handler: named("b")}, {Name: "b", Handler: named("b")}}, nil, `target "b" defined twice`},
		{[]hook.Target{{Name: "c", Handler: named("c"), Policy: hook.Policy{Combine: time.Second}}}, nil, "cannot handle a batch"},
		{nil, []string{"zz"}, `remove target "zz": not found`},
		{[]hook.Target{{Name: "a", Handler: named("x")}}, []string{"a"}, `target "a" is both added and removed`},
	} {
		err := e.SetTargets(ctx, c.add, c.remove)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetTargets(%v, %v) = %v, want %q", c.add, c.remove, err, c.want)
		}
	}
	if got := e.Targets(); len(got) != 1 || got[0] != "a" {
		t.Errorf("targets after refused changes: %v", got)
	}
	if err := e.SetTargets(ctx, []hook.Target{{Name: "b", Handler: named("b")}}, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if got := e.Targets(); len(got) != 1 || got[0] != "b" {
		t.Errorf("targets: %v, want [b]", got)
	}
}

// TestUnknownTargetWaits: a delivery whose target left the set (a domain
// deleted, or not loaded on this node yet) is not dead-lettered: it waits,
// says why, and is delivered once a target of that name is back.
func TestUnknownTargetWaits(t *testing.T) {
	storetest.Run(t, testUnknownTargetWaits)
}

func testUnknownTargetWaits(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	logs := &testsupport.LogBuffer{}
	e := removeAfterFailure(t, st, fast(), obs, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	obs.Wait(t, "the failed attempt recorded", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateRetrying, "gone") == 1
	})
	// Wait until the job has found its target missing, twice (it looks
	// again, and is still not dead).
	logs.Wait(t, "their target is not configured on this node", 2)
	ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{Target: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != hook.StateRetrying || ds[0].Held != `held: target "gone" is not configured on this node` {
		t.Fatalf("deliveries %+v", ds)
	}
	if err := e.SetTargets(ctx, []hook.Target{{Name: "gone", Handler: named("back")}}, nil); err != nil {
		t.Fatal(err)
	}
	seen := obs.Wait(t, "the delivery delivered once its target is back", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "gone") == 1
	})
	if n := hooktest.Count(seen, hook.StateDead, "gone"); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

// removeAfterFailure opens an engine with the target "gone", emits one
// event, fails its first attempt and removes the target while that attempt
// is in flight: the delivery is retrying, with a target this node no
// longer knows.
func removeAfterFailure(t *testing.T, st hookrt.StoreConfig, d engine.DeliveryOptions, obs *hooktest.Observations, logger *slog.Logger) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	g := newGate()
	e, err := engine.Open(ctx, engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: d, ServerID: "test", Observer: obs.Observe,
		Targets: []hook.Target{{Name: "gone", Handler: g}},
		Logger:  logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	t.Cleanup(g.open)
	engine.SetUnknownWait(e, 50*time.Millisecond)

	if _, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "E"}); err != nil {
		t.Fatal(err)
	}
	await(t, "the attempt in flight", g.entered)
	removed := make(chan error, 1)
	go func() { removed <- e.SetTargets(ctx, nil, []string{"gone"}) }()
	g.release <- errors.New("HTTP 503") // a failed attempt: retrying, soon due
	if err := await(t, "SetTargets to remove the target", removed); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestUnknownTargetAges: a delivery whose target this node does not know
// waits only as long as the maximum age allows; then it is dead, saying
// that its target is not configured here.
func TestUnknownTargetAges(t *testing.T) {
	storetest.Run(t, testUnknownTargetAges)
}

func testUnknownTargetAges(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	d := fast()
	d.MaxAge = 300 * time.Millisecond
	e := removeAfterFailure(t, st, d, obs, nil)
	obs.Wait(t, "the delivery dead once past the maximum age", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDead, "gone") == 1
	})
	ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{Target: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `older than the maximum age 300ms; its target "gone" is not configured on this node`
	if len(ds) != 1 || ds[0].State != hook.StateDead || !strings.Contains(ds[0].LastError, want) || !strings.HasPrefix(ds[0].LastError, "HTTP 503") {
		t.Fatalf("deliveries %+v, want one dead whose error keeps the attempt's and says %q", ds, want)
	}
}

// TestDiscardTarget: the live deliveries of a removed target are
// discarded on request, and only they.
func TestDiscardTarget(t *testing.T) {
	storetest.Run(t, testDiscardTarget)
}

func testDiscardTarget(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	d := fast()
	d.Schedule = []time.Duration{10 * time.Minute} // below the maximum age: they stay retrying
	down := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Status: 503}, errors.New("HTTP 503")
	})
	e := open(t, st, d, obs, hook.Target{Name: "x", Handler: down}, hook.Target{Name: "y", Handler: down})
	for range 3 {
		if _, err := e.Emit(ctx, map[string]string{"MODULE": "M", "EVENT": "E"}); err != nil {
			t.Fatal(err)
		}
	}
	obs.Wait(t, "every delivery retrying", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateRetrying, "") == 6
	})
	if err := e.SetTargets(ctx, nil, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	n, err := e.DiscardTarget(ctx, "x", "domain deleted")
	if err != nil || n != 3 {
		t.Fatalf("DiscardTarget = %d, %v; want 3", n, err)
	}
	for target, want := range map[string]hook.DeliveryState{"x": hook.StateDiscarded, "y": hook.StateRetrying} {
		ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		for _, dv := range ds {
			if dv.State != want {
				t.Errorf("delivery %d of %s is %s, want %s", dv.ID, target, dv.State, want)
			}
		}
		if len(ds) != 3 {
			t.Errorf("%d deliveries of %s", len(ds), target)
		}
	}
	if n, err := e.DiscardTarget(ctx, "x", "again"); err != nil || n != 0 {
		t.Errorf("second DiscardTarget = %d, %v", n, err)
	}
}

package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestTargetControl: an operator pauses, resumes, disables and enables a
// target; the state lives in the store, so another runtime on the same
// database (a second node) sees it at once; a bulk replay brings dead
// deliveries back.
func TestTargetControl(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		obs := newObservations()
		var calls atomic.Int64
		counted := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
			calls.Add(1)
			return hook.Result{Status: 204}, nil
		})
		ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
		targets := []hookrt.Option{hookrt.WithTarget(hook.Target{Name: "t", Handler: counted}), hookrt.WithTarget(hook.Target{Name: "u", Handler: ok})}
		rt := open(t, testConfig(st), append(targets, hookrt.WithObserver(obs.observe))...)
		ctx := context.Background()
		state := func(rt *hookrt.Runtime, name string) hook.TargetStatus {
			t.Helper()
			ts, err := rt.TargetStatuses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ts {
				if s.Name == name {
					return s
				}
			}
			t.Fatalf("no target %s in %+v", name, ts)
			return hook.TargetStatus{}
		}

		if err := rt.PauseTarget(ctx, "t", "maintenance"); err != nil {
			t.Fatal(err)
		}
		if s := state(rt, "t"); s.State != hook.TargetPaused || s.Reason != "maintenance" || s.ChangedBy != "operator" {
			t.Errorf("after pause: %+v", s)
		}
		if _, err := rt.Emit(ctx, userCreate(1)); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "u delivered", func(o []hook.Observation) bool { return count("delivered", "u")(o) == 1 })
		if n := calls.Load(); n != 0 {
			t.Errorf("the paused target was called %d times", n)
		}
		if s := state(rt, "t"); s.Pending != 1 || s.OldestPending == nil {
			t.Errorf("paused target's status: %+v; want one waiting delivery", s)
		}
		if st.Driver == hookrt.DriverPostgres { // a second node sees the pause
			other := open(t, testConfig(st), append(targets, hookrt.WithoutWorkers())...)
			if s := state(other, "t"); s.State != hook.TargetPaused {
				t.Errorf("another node sees %+v", s)
			}
		}
		// Resuming attempts the waiting delivery at once (its job was
		// snoozed for an hour).
		if err := rt.ResumeTarget(ctx, "t"); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "t delivered after resume", func(o []hook.Observation) bool { return count("delivered", "t")(o) == 1 })
		if err := rt.ResumeTarget(ctx, "t"); !errors.Is(err, hook.ErrConflict) {
			t.Errorf("resuming an enabled target: %v", err)
		}

		if err := rt.DisableTarget(ctx, "t", "receiver retired"); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Emit(ctx, userCreate(2)); err != nil {
			t.Fatal(err)
		}
		seen := obs.wait(t, "t dead while disabled", func(o []hook.Observation) bool { return count("dead", "t")(o) == 1 })
		for _, o := range seen {
			if o.Target == "t" && o.State == "dead" && !strings.Contains(o.Reason, "target disabled: receiver retired") {
				t.Errorf("dead reason %q", o.Reason)
			}
		}
		if err := rt.EnableTarget(ctx, "t"); err != nil {
			t.Fatal(err)
		}
		n, err := rt.RetryMatching(ctx, hook.DeliveryFilter{Target: "t"})
		if err != nil || n != 1 {
			t.Fatalf("bulk replay: %d, %v; want the one dead delivery", n, err)
		}
		obs.wait(t, "the replayed delivery", func(o []hook.Observation) bool { return count("delivered", "t")(o) == 2 })
		if s := state(rt, "t"); s.State != hook.TargetEnabled || s.Pending != 0 {
			t.Errorf("at the end: %+v", s)
		}
		if err := rt.PauseTarget(ctx, "nope", ""); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("pausing an unknown target: %v", err)
		}
	})
}

// TestPruneJobRuns: the retention's periodic job is scheduled by River's
// leader and runs (what it deletes is tested in internal/engine).
func TestPruneJobRuns(t *testing.T) {
	t.Parallel()
	cfg := testConfig(teststore.SQLite(t))
	cfg.Retention.Interval = hook.Duration(time.Second)
	rt := open(t, cfg)
	deadline := time.Now().Add(hooktest.Patience)
	for {
		var n int
		err := rt.DB().QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM river_job WHERE kind = 'hookd_prune' AND state = 'completed'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no pruning job ran")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, with a deadline
	}
}

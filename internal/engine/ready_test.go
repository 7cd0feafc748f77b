package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestReadyFollowsCommits: readiness turns false with the first emit whose
// commit the store refuses and true again with the first good one, with
// no probe interval in between; and a node that gets no emits while unready
// becomes ready again once its write probe succeeds. The store refuses
// writes as a full disk does, by triggers that fail every insert of an
// event and every write probe. It used to be a write probe cached for a
// second, whatever the emits met.
func TestReadyFollowsCommits(t *testing.T) {
	storetest.Run(t, testReadyFollowsCommits)
}

func testReadyFollowsCommits(t *testing.T, st hookrt.StoreConfig) {
	ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
	e := open(t, st, fast(), hooktest.NewObservations(), hook.Target{Name: "ok", Handler: ok})
	ctx := context.Background()
	fields := map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}
	full := diskFull(t, e)

	if _, err := e.Emit(ctx, fields); err != nil {
		t.Fatal(err)
	}
	if err := e.Ready(ctx); err != nil {
		t.Fatalf("ready before the disk filled: %v", err)
	}
	full(true)
	if _, err := e.Emit(ctx, fields); !errors.Is(err, hook.ErrUnavailable) {
		t.Fatalf("emit on a full disk: %v, want hook.ErrUnavailable", err)
	}
	if err := e.Ready(ctx); err == nil {
		t.Fatal("ready right after the store refused an emit's commit")
	} else {
		t.Logf("unready: %v", err)
	}
	full(false)
	if _, err := e.Emit(ctx, fields); err != nil {
		t.Fatalf("emit once space is back: %v", err)
	}
	if err := e.Ready(ctx); err != nil {
		t.Fatalf("unready right after a good commit: %v", err)
	}

	// Unready, then no emits: the write probe brings it back.
	full(true)
	if _, err := e.Emit(ctx, fields); err == nil {
		t.Fatal("emit on a full disk succeeded")
	}
	if err := e.Ready(ctx); err == nil {
		t.Fatal("ready right after the store refused an emit's commit")
	}
	full(false)
	deadline := time.Now().Add(hooktest.Patience)
	for e.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("still unready %s after space came back, with no emits: %v", hooktest.Patience, e.Ready(ctx))
		}
		time.Sleep(50 * time.Millisecond) // the probe runs at most once a second
	}
}

// diskFull returns a switch that makes the store refuse (or take again)
// every insert of an event and every write probe, with the error a full
// disk gives.
func diskFull(t *testing.T, e *engine.Engine) func(on bool) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		var err error
		if db := e.DB().SQL(); db != nil {
			_, err = db.ExecContext(ctx, q)
		} else {
			_, err = e.DB().Pool().Exec(ctx, q)
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if e.DB().SQL() != nil {
		return func(on bool) {
			if !on {
				for _, tr := range []string{"full_event", "full_probe_insert", "full_probe_update"} {
					exec("DROP TRIGGER " + tr)
				}
				return
			}
			const raise = `BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`
			exec(`CREATE TRIGGER full_event BEFORE INSERT ON hookd_event ` + raise)
			exec(`CREATE TRIGGER full_probe_insert BEFORE INSERT ON hookd_health ` + raise)
			exec(`CREATE TRIGGER full_probe_update BEFORE UPDATE ON hookd_health ` + raise)
		}
	}
	exec(`CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$`)
	return func(on bool) {
		if !on {
			exec(`DROP TRIGGER full_event ON hookd_event`)
			exec(`DROP TRIGGER full_probe ON hookd_health`)
			return
		}
		exec(`CREATE TRIGGER full_event BEFORE INSERT ON hookd_event FOR EACH STATEMENT EXECUTE FUNCTION test_disk_full()`)
		exec(`CREATE TRIGGER full_probe BEFORE INSERT OR UPDATE ON hookd_health FOR EACH STATEMENT EXECUTE FUNCTION test_disk_full()`)
	}
}

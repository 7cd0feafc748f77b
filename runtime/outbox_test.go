package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestEmitTx: an event emitted inside the caller's transaction exists, and
// is delivered, if and only if that transaction commits.
func TestEmitTx(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		obs := newObservations()
		ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
		rt := open(t, testConfig(st), hookrt.WithObserver(obs.observe), hookrt.WithTarget(hook.Target{Name: "t", Handler: ok}))
		ctx := context.Background()
		// inTx runs fn in a native transaction of the proxy's own kind: on
		// the runtime's *sql.DB (SQLite), or on a pgx connection of the
		// proxy's own to the same database (PostgreSQL).
		inTx := func(commit bool, fn func(hookrt.Tx) error) {
			t.Helper()
			var err error
			if db := rt.DB(); db != nil {
				tx, e := db.BeginTx(ctx, nil)
				if e != nil {
					t.Fatal(e)
				}
				if _, e := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS proxy_user (name TEXT)`); e != nil {
					t.Fatal(e)
				}
				err = fn(hookrt.SQLTx(tx))
				if commit && err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			} else {
				conn, e := pgx.Connect(ctx, st.DSN)
				if e != nil {
					t.Fatal(e)
				}
				defer conn.Close(ctx)
				tx, e := conn.BeginTx(ctx, pgx.TxOptions{})
				if e != nil {
					t.Fatal(e)
				}
				err = fn(hookrt.PgxTx(tx))
				if commit && err == nil {
					err = tx.Commit(ctx)
				} else {
					tx.Rollback(ctx)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		inTx(false, func(tx hookrt.Tx) error { _, err := rt.EmitTx(ctx, tx, userCreate(1)); return err })
		var committed string
		inTx(true, func(tx hookrt.Tx) error {
			var err error
			committed, err = rt.EmitTx(ctx, tx, userCreate(2))
			return err
		})
		obs.wait(t, "the committed event delivered", func(o []hook.Observation) bool { return count("delivered", "t")(o) == 1 })
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].EventID != committed {
			t.Fatalf("deliveries %+v; want only the committed event %s", ds, committed)
		}
	})
}

// TestMaxAge: a delivery that keeps failing is dead-lettered once its next
// attempt would pass the maximum age, and can be replayed.
func TestMaxAge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		cfg := testConfig(st)
		// Room for several attempts even when a loaded machine delays the
		// first by seconds.
		cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(200 * time.Millisecond)}
		cfg.Delivery.MaxAge = hook.Duration(5 * time.Second)
		cfg.Delivery.Timeout = hook.Duration(time.Second)
		obs := newObservations()
		failing := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
			return hook.Result{Status: 503}, errors.New("HTTP 503")
		})
		rt := open(t, cfg, hookrt.WithObserver(obs.observe), hookrt.WithTarget(hook.Target{Name: "down", Handler: failing}))
		ctx := context.Background()
		if _, err := rt.Emit(ctx, userCreate(1)); err != nil {
			t.Fatal(err)
		}
		seen := obs.wait(t, "dead letter", func(o []hook.Observation) bool { return count("dead", "down")(o) == 1 })
		last := seen[len(seen)-1]
		if !strings.Contains(last.Reason, "maximum age 5s") {
			t.Fatalf("dead after %d attempts: %s", last.Attempt, last.Reason)
		}
		// Retried until the maximum age was near: several attempts, unless
		// a loaded machine made the first one so late that its retry would
		// already pass the maximum age.
		if age := last.At.Sub(last.EventAt); last.Attempt < 2 && age < 5*time.Second-2*200*time.Millisecond {
			t.Fatalf("dead after %d attempt(s), %s after the emit: the maximum age (5s) was not near", last.Attempt, age)
		}
		ds, _ := rt.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDead})
		if len(ds) != 1 {
			t.Fatalf("dead deliveries: %+v", ds)
		}
		if err := rt.Discard(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := rt.Discard(ctx, ds[0].ID); !errors.Is(err, hook.ErrConflict) {
			t.Errorf("second discard: %v", err)
		}
		if err := rt.Retry(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "replayed and dead again", func(o []hook.Observation) bool { return count("dead", "down")(o) == 2 })
	})
}

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
)

// TestTakeBatchWaitsForArmingEmit: on PostgreSQL, a batch job that looks
// for work while an emit that found the target armed has not committed
// yet waits for that commit and takes its delivery, instead of disarming
// the target under it (the delivery then had no job until the target's
// next emit). The emit's transaction holds the target's row from
// ArmBatch on; TakeBatch locks the row before it reads.
func TestTakeBatchWaitsForArmingEmit(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres(t))
	ctx := context.Background()
	const target = "combined"
	arm := func(tx store.Tx) bool {
		t.Helper()
		need, err := store.ArmBatch(ctx, tx, target)
		if err != nil {
			t.Fatal(err)
		}
		return need
	}
	if err := db.InTx(ctx, func(tx store.Tx) error {
		if !arm(tx) {
			t.Error("the first ArmBatch did not ask for a job")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The emit: its delivery and ArmBatch (armed already: no new job),
	// committed only when told.
	ev, err := hook.NewEvent(map[string]string{"MODULE": "M", "EVENT": "E"}, time.Now(), "node")
	if err != nil {
		t.Fatal(err)
	}
	armed, commit, emitted := make(chan bool, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		emitted <- db.InTx(ctx, func(tx store.Tx) error {
			if err := store.InsertEvents(ctx, tx, []*hook.Event{ev}); err != nil {
				return err
			}
			if _, err := store.InsertDeliveries(ctx, tx, []store.NewDelivery{{EventID: ev.ID, Target: target}}, time.Now()); err != nil {
				return err
			}
			need, err := store.ArmBatch(ctx, tx, target)
			if err != nil {
				return err
			}
			armed <- need
			<-commit
			return nil
		})
	}()
	select {
	case need := <-armed:
		if need {
			t.Fatal("ArmBatch asked for a second job while the first is armed")
		}
	case err := <-emitted:
		t.Fatalf("the emit ended before it armed: %v", err)
	case <-time.After(hooktest.Patience):
		t.Fatal("the emit did not arm")
	}
	defer func() {
		select {
		case <-commit:
		default:
			close(commit)
		}
	}()

	type taken struct {
		works []*store.Work
		err   error
	}
	took := make(chan taken, 1)
	go func() {
		works, _, err := db.TakeBatch(ctx, target, 10)
		took <- taken{works, err}
	}()
	// TakeBatch waits on the row's lock: the emit commits only then.
	deadline := time.Now().Add(hooktest.Patience)
	for {
		var waiting int
		if err := db.InTx(ctx, func(tx store.Tx) error {
			return tx.Native().(pgx.Tx).QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting)
		}); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case r := <-took:
			t.Fatalf("TakeBatch did not wait for the arming emit: took %d deliveries, %v", len(r.works), r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("TakeBatch neither waited nor returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(commit)
	if err := <-emitted; err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-took:
		if r.err != nil || len(r.works) != 1 || r.works[0].Event.ID != ev.ID {
			t.Fatalf("TakeBatch after the emit committed: %d deliveries, %v; want the emitted one", len(r.works), r.err)
		}
	case <-time.After(hooktest.Patience):
		t.Fatal("TakeBatch did not return after the emit committed")
	}
}

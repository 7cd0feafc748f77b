package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestBulkWrites: groups of every size are written with multi-row
// statements in chunks, and read back row by row as they were given; a
// record of a delivery that changed meanwhile is a conflict of its own.
func TestBulkWrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		db := storetest.Open(t, st)
		ctx := context.Background()
		now := time.Now()
		for _, n := range []int{1, 5, 87} { // 87 = 64 + 16 + 4 + 1 + 1 + 1
			var (
				evs []*hook.Event
				ds  []store.NewDelivery
			)
			for i := range n {
				ev, err := hook.NewEvent(map[string]string{"MODULE": "M", "EVENT": "E", "N": fmt.Sprint(i)}, now, "node")
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, ev)
				// Two targets for each event, the second one held.
				ds = append(ds, store.NewDelivery{EventID: ev.ID, Target: "a"},
					store.NewDelivery{EventID: ev.ID, Target: "b", HeldUntil: now.Add(time.Minute)})
			}
			var ids []int64
			err := db.InTx(ctx, func(tx store.Tx) error {
				if err := store.InsertEvents(ctx, tx, evs); err != nil {
					return err
				}
				var err error
				ids, err = store.InsertDeliveries(ctx, tx, ds, now)
				return err
			})
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for i, id := range ids {
				wk, err := db.LoadWork(ctx, id)
				if err != nil {
					t.Fatalf("n=%d: delivery %d: %v", n, id, err)
				}
				if wk.Event.ID != ds[i].EventID || wk.Target != ds[i].Target || wk.Event.Fields["N"] != fmt.Sprint(i/2) {
					t.Fatalf("n=%d: delivery %d of row %d is %s to %s (N=%s), want %s to %s",
						n, id, i, wk.Event.ID, wk.Target, wk.Event.Fields["N"], ds[i].EventID, ds[i].Target)
				}
			}

			// Record an attempt of each; one was discarded meanwhile.
			if err := db.Discard(ctx, ids[0]); err != nil {
				t.Fatal(err)
			}
			recs := make([]store.Record, len(ids))
			for i, id := range ids {
				recs[i] = store.Record{ID: id, Attempt: &hook.Attempt{At: now, Latency: time.Millisecond, Status: 200 + i},
					Outcome: store.Outcome{State: hook.StateDelivered}}
			}
			var errs []error
			err = db.InTx(ctx, func(tx store.Tx) error {
				var err error
				errs, err = store.RecordMany(ctx, tx, recs)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if conflict := errors.Is(err, hook.ErrConflict); conflict != (i == 0) {
					t.Errorf("n=%d: record %d: %v", n, i, err)
				}
			}
			d, err := db.GetDelivery(ctx, ids[len(ids)-1])
			if err != nil {
				t.Fatal(err)
			}
			if d.State != hook.StateDelivered || d.Attempts != 1 || len(d.History) != 1 || d.History[0].Status != 200+len(ids)-1 {
				t.Errorf("n=%d: last delivery after the record: %+v", n, d)
			}
			// Recorded deliveries hold no lease any more: nothing to take.
			err = db.InTx(ctx, func(tx store.Tx) error {
				taken, err := store.TakeHeld(ctx, tx, now.Add(time.Hour), 1000)
				if len(taken) != 0 {
					t.Errorf("n=%d: leases left after the records: %v", n, taken)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

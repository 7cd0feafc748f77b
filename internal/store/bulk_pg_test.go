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

// TestRecordGroupStatements: a settle group of n records costs what the
// store promises (issue 19): on PostgreSQL one statement outside any
// explicit transaction whatever n; on SQLite one transaction with an
// update and an insert per chunk, and a group of up to 8 is one chunk. A
// record of a delivery replayed meanwhile is still a conflict of its own,
// and a retry's record (no attempt row: a decision) keeps its attempts.
func TestRecordGroupStatements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		db := storetest.Open(t, st)
		ctx := context.Background()
		now := time.Now()
		for _, n := range []int{1, 3, 8, 100} {
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
				ds = append(ds, store.NewDelivery{EventID: ev.ID, Target: "a", HeldUntil: now.Add(time.Minute)})
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
			if err := db.Discard(ctx, ids[0]); err != nil { // discarded meanwhile: its record conflicts
				t.Fatal(err)
			}
			recs := make([]store.Record, n)
			for i, id := range ids {
				recs[i] = store.Record{ID: id, Attempt: &hook.Attempt{At: now, Latency: time.Millisecond, Status: 200 + i, Response: "ok", Summary: "s"},
					Outcome: store.Outcome{State: hook.StateDelivered}}
			}
			if n > 1 { // a decision without an attempt: retried later, no attempt row
				recs[1] = store.Record{ID: ids[1], Outcome: store.Outcome{State: hook.StateRetrying, NextAttempt: now.Add(time.Hour), Error: "later"}}
			}
			before := db.SQLCounts()
			errs, err := db.RecordGroup(ctx, recs)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			got := db.SQLCounts()
			stmts, begins := got.Statements-before.Statements, got.Begins-before.Begins
			wantStmts, wantBegins := uint64(1), uint64(0)
			if db.Dialect() == store.SQLite {
				rows := n - 1 // attempt rows: not the conflict's, nor the decision's
				if n > 1 {
					rows--
				}
				wantStmts, wantBegins = uint64(chunksOf(n)+chunksOf(rows)), 1
			}
			if stmts != wantStmts || begins != wantBegins {
				t.Errorf("n=%d: %d statements and %d BEGIN, want %d and %d", n, stmts, begins, wantStmts, wantBegins)
			}
			for i, err := range errs {
				if conflict := errors.Is(err, hook.ErrConflict); conflict != (i == 0) {
					t.Errorf("n=%d: record %d: %v", n, i, err)
				}
			}
			last, err := db.GetDelivery(ctx, ids[n-1])
			if err != nil {
				t.Fatal(err)
			}
			if n > 1 && (last.State != hook.StateDelivered || last.Attempts != 1 || len(last.History) != 1 ||
				last.History[0].Status != 200+n-1 || last.History[0].Response != "ok" || last.LastSummary != "s") {
				t.Errorf("n=%d: last delivery after the record: %+v", n, last)
			}
			if n > 1 {
				retried, err := db.GetDelivery(ctx, ids[1])
				if err != nil {
					t.Fatal(err)
				}
				if retried.State != hook.StateRetrying || retried.Attempts != 0 || len(retried.History) != 0 || retried.LastError != "later" {
					t.Errorf("n=%d: retried delivery after the record: %+v", n, retried)
				}
			}
		}
	})
}

// chunksOf is how many chunks RecordMany cuts n records into on SQLite.
func chunksOf(n int) int {
	c := 0
	for _, size := range []int{64, 32, 16, 8, 7, 6, 5, 4, 3, 2, 1} {
		c += n / size
		n %= size
	}
	return c
}

package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestSQLCostPerDelivery measures what the direct path (an emit's group
// commit, then its attempt's settle group commit) sends to the store per
// delivery that succeeds at once: statements, explicit transactions, and
// rows written (SQLite: total_changes(); PostgreSQL: the WAL bytes of the
// test's database when pg_walinspect can be created). It logs them (-v)
// and holds the statements and transactions to what the two group commits
// need, so that a change that adds a statement per delivery shows here.
//
// Events are emitted one at a time by each of a few callers, so groups
// are small and the figures are close to the worst case per delivery;
// River's own polling is slowed down to keep it out of the counts.
func TestSQLCostPerDelivery(t *testing.T) {
	storetest.Run(t, testSQLCostPerDelivery)
}

func testSQLCostPerDelivery(t *testing.T, st hookrt.StoreConfig) {
	const (
		callers = 4
		each    = 50
		n       = callers * each
	)
	ctx := context.Background()
	d := fast()
	d.PollInterval = 10 * time.Second
	d.Workers = 64 // a direct slot for every delivery in flight: no River job
	obs := hooktest.NewObservations()
	ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		return hook.Result{Status: 204}, nil
	})
	e := open(t, st, d, obs, hook.Target{Name: "ok", Handler: ok})
	db := e.DB()
	// One delivery first, so that statements are prepared and River's
	// start-up queries are behind us.
	if _, err := e.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the first delivery", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "ok") == 1 })

	rows0 := changes(t, db)
	wal := startWAL(t, db)
	before := db.SQLCounts()
	emitConcurrently(ctx, t, e, callers, each)
	obs.Wait(t, "every delivery", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "ok") == n+1 })
	after := db.SQLCounts()
	rows := changes(t, db) - rows0
	if rows0 < 0 {
		rows = -1
	}
	walBytes := wal(t)

	stmts := float64(after.Statements-before.Statements) / n
	begins := float64(after.Begins-before.Begins) / n
	commits := float64(after.Commits-before.Commits) / n
	t.Logf("%s, %d deliveries by %d callers: %.2f statements, %.2f BEGIN, %.2f COMMIT per delivery", st.Driver, n, callers, stmts, begins, commits)
	if rows >= 0 {
		t.Logf("%s: %.2f rows written per delivery", st.Driver, float64(rows)/n)
	}
	if walBytes >= 0 {
		t.Logf("%s: %.0f WAL bytes per delivery (the test database's records and their commits)", st.Driver, float64(walBytes)/n)
	}
	// Each delivery is at most in a group of its own twice: an emit
	// (events, deliveries) and a settle (one statement on PostgreSQL,
	// two on SQLite). River's polls add a little; a statement more per
	// delivery does not fit.
	maxStmts := 4.5
	if st.Driver == "postgres" {
		maxStmts = 3.5
	}
	if stmts > maxStmts || commits > 2.2 {
		t.Errorf("%.2f statements and %.2f commits per delivery; want at most %.1f and 2.2", stmts, commits, maxStmts)
	}
}

// changes returns SQLite's count of rows inserted, updated and deleted on
// its one connection, or -1 on PostgreSQL.
func changes(t *testing.T, db *store.DB) int64 {
	t.Helper()
	if db.Dialect() != store.SQLite {
		return -1
	}
	var n int64
	if err := db.SQL().QueryRowContext(context.Background(), `SELECT total_changes()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// startWAL notes PostgreSQL's WAL position and returns a function that
// gives the bytes of WAL written since for the store's database (records
// that touch its relations, and the commit records of their
// transactions), or -1 when that cannot be measured (SQLite, or no
// pg_walinspect: it needs a superuser to create it).
func startWAL(t *testing.T, db *store.DB) func(*testing.T) int64 {
	t.Helper()
	none := func(*testing.T) int64 { return -1 }
	if db.Dialect() != store.Postgres {
		return none
	}
	ctx := context.Background()
	if _, err := db.Pool().Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_walinspect`); err != nil {
		t.Logf("no WAL figure: %v", err)
		return none
	}
	var start string
	if err := db.Pool().QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&start); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) int64 {
		var n int64
		err := db.Pool().QueryRow(ctx, `WITH r AS (
				SELECT xid, record_length, block_ref FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_lsn())
			), mine AS (
				SELECT DISTINCT xid FROM r WHERE xid <> 0 AND block_ref LIKE '%/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/%'
			)
			SELECT COALESCE(SUM(record_length), 0) FROM r WHERE xid IN (SELECT xid FROM mine)`, start).Scan(&n)
		if err != nil {
			t.Logf("no WAL figure: %v", err)
			return -1
		}
		return n
	}
}

// emitConcurrently has callers goroutines each Emit each events, one at a
// time, so that the engine's group commits see concurrent emits; the
// events are numbered by N.
func emitConcurrently(ctx context.Context, t *testing.T, e *engine.Engine, callers, each int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := e.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "N": fmt.Sprint(c*each + i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

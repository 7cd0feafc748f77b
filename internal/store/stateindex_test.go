package store

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TestStateIndexPlans: every query that reads deliveries by a state other
// than delivered can use the partial state index (migration 8), on
// SQLite, whose planner matches a partial index's condition by its terms:
// the gauges, the target loads, a listing of dead letters, and the bulk
// replay's targets and rows. A query that lost its index would scan the
// whole history of deliveries.
func TestStateIndexPlans(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "hookd.db"), SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	note := func(q string) {
		if strings.Contains(q, "hookd_delivery") && strings.Contains(q, "state") && !strings.HasPrefix(strings.TrimSpace(q), "EXPLAIN") {
			mu.Lock()
			seen = append(seen, q)
			mu.Unlock()
		}
	}
	onStatement.Store(&note)
	defer onStatement.Store(nil)
	if _, err := db.Gauges(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TargetLoads(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDead}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReplayTargets(ctx, hook.StateDead, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx Tx) error {
		_, err := RequeueMatching(ctx, tx, hook.StateDead, "", time.Time{}, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	onStatement.Store(nil)
	want := []string{"count", "oldest", "loads", "list", "targets", "replay"}
	var byState []string
	for _, q := range seen {
		if strings.Contains(q, "last_error <> ''") { // TargetLoads' latest errors: by target, not state
			continue
		}
		byState = append(byState, q)
	}
	if len(byState) != len(want) {
		t.Fatalf("%d queries by state, want %d (%v):\n%s", len(byState), len(want), want, strings.Join(byState, "\n---\n"))
	}
	for i, q := range byState {
		args := make([]any, strings.Count(q, "?")) // the plan does not depend on their values
		rs, err := db.sqldb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", want[i], err)
		}
		var plan []string
		for rs.Next() {
			var id, parent, unused int
			var detail string
			if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rs.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "hookd_delivery_state") {
			t.Errorf("%s does not use the state index: %s\n%s", want[i], p, q)
		}
	}
}

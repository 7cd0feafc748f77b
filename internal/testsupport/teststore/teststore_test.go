package teststore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestSQLiteIsMigratedAndFresh: every copy holds hookd's and River's
// tables, empty, and is a file of its own (a write to one is not seen in
// another); a runtime opens it and finds nothing left to migrate.
func TestSQLiteIsMigratedAndFresh(t *testing.T) {
	ctx := context.Background()
	a, b := teststore.SQLite(t), teststore.SQLite(t)
	if a.Path == b.Path {
		t.Fatalf("two stores share %s", a.Path)
	}
	db, err := store.OpenSQLite(ctx, a.Path, store.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"hookd_event", "hookd_delivery", "hookd_plugin_state", "river_job", "river_migration"} {
		var n int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		} else if n != 0 && table != "river_migration" {
			t.Errorf("table %s holds %d rows in a fresh store", table, n)
		}
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO hookd_event (id, created_at, fields) VALUES ('e1', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := hookrt.DefaultConfig()
	cfg.Store = b
	rt, err := hookrt.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("a runtime on the copy: %v", err)
	}
	var n int
	if err := rt.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM hookd_event`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the other copy holds %d events (%v): the copies share a file", n, err)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rt.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
}

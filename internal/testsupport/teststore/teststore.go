// Package teststore gives tests a fresh, migrated SQLite store without
// paying for the migration each time: a file migrated once per test
// binary, copied for every test that asks (storetest.SQLite migrates an
// empty file when the runtime opens it).
//
//	rt := open(t, testConfig(teststore.SQLite(t)))
//	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) { … })
//
// # Why a migrated copy
//
// Under -race, modernc.org/sqlite runs with the race detector's pointer
// checks on every step of SQLite's virtual machine: migrating an empty
// file (hookd's tables and River's, whose ALTER TABLEs re-parse the
// schema) took about 1 s per runtime on a loaded 2-core machine, 0.2 s
// for a copy, and was 44 % of the CPU builtin/httpevents' tests spent.
// Opening a copy still runs the runtime's migration, which finds nothing
// left to do. Tests of migration itself (internal/store) and of a
// daemon's first start keep starting from an empty file.
package teststore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// migrated is a SQLite file with every migration applied, made once per
// test binary and kept in memory.
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "hookd-migrated")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path, snapshot := filepath.Join(dir, "hookd.db"), filepath.Join(dir, "snapshot.db")
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, path, store.SQLiteOptions{})
	if err != nil {
		return nil, err
	}
	err = db.Migrate(ctx)
	if err == nil {
		// One self-contained file, whatever is still in the WAL: closing
		// the last connection usually folds the WAL into the file and
		// removes it, but not always (a test binary once found it left).
		_, err = db.SQL().ExecContext(ctx, "VACUUM INTO ?", snapshot)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("migrate a template store: %w", err)
	}
	return os.ReadFile(snapshot)
})

// MigratedSQLite writes a migrated, empty SQLite store at path (its
// directory is created), as a first start would have left it.
func MigratedSQLite(t testing.TB, path string) {
	t.Helper()
	data, err := migrated()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// SQLite returns a store config for a new, migrated SQLite file in t's
// temporary directory: storetest.SQLite without the migration's cost.
func SQLite(t testing.TB) hookrt.StoreConfig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookd.db")
	MigratedSQLite(t, path)
	return hookrt.StoreConfig{Driver: hookrt.DriverSQLite, Path: path}
}

// EachStore runs fn once per store as parallel subtests, as storetest.Run
// does in sequence: on a migrated SQLite copy ([SQLite]) and on a fresh
// PostgreSQL database (storetest.Postgres: skipped, or failed under
// HOOKD_REQUIRE_POSTGRES=1, without one). fn must not call t.Parallel.
func EachStore(t *testing.T, fn func(t *testing.T, st hookrt.StoreConfig)) {
	t.Helper()
	for _, c := range []storetest.Case{{Name: "sqlite", Store: SQLite}, {Name: "postgres", Store: storetest.Postgres}} {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, c.Store(t))
		})
	}
}

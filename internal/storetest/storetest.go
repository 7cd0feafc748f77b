// Package storetest gives tests a real, empty store: a SQLite file in a
// temporary directory, or a fresh database on the PostgreSQL server named by
// HOOKD_TEST_POSTGRES_DSN (`.ci/postgres.sh` starts one and prints it).
//
// Without that variable the PostgreSQL cases are skipped, unless
// HOOKD_REQUIRE_POSTGRES=1 (set by .ci/run), which makes them fail instead:
// CI must run them, not skip them.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookrt/hookd/internal/store"
	hookrt "github.com/hookrt/hookd/runtime"
)

// EnvDSN names the variable holding an admin DSN of a test PostgreSQL.
const EnvDSN = "HOOKD_TEST_POSTGRES_DSN"

// Case is one store to run a test against.
type Case struct {
	Name  string
	Store func(t testing.TB) hookrt.StoreConfig
}

// All returns the SQLite case and the PostgreSQL case.
func All() []Case {
	return []Case{{"sqlite", SQLite}, {"postgres", Postgres}}
}

// Run runs fn as a subtest once per store.
func Run(t *testing.T, fn func(t *testing.T, st hookrt.StoreConfig)) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) { fn(t, c.Store(t)) })
	}
}

// SQLite returns a store config for a new SQLite file.
func SQLite(t testing.TB) hookrt.StoreConfig {
	return hookrt.StoreConfig{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "hookd.db")}
}

// Postgres creates a fresh database on the test server and returns a store
// config for it; the database is dropped when the test ends.
func Postgres(t testing.TB) hookrt.StoreConfig {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("HOOKD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s is not set but HOOKD_REQUIRE_POSTGRES=1: PostgreSQL tests must run", EnvDSN)
		}
		t.Skipf("%s not set; run `eval \"$(.ci/postgres.sh)\"` to test on PostgreSQL", EnvDSN)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hookd_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	return hookrt.StoreConfig{Driver: "postgres", DSN: u.String()}
}

// Open opens the store of st with internal/store, as the runtime would,
// and migrates it; it is closed when t ends (closing it before, to open
// the file again as a restart would, is fine).
func Open(t testing.TB, st hookrt.StoreConfig) *store.DB {
	t.Helper()
	ctx := context.Background()
	var (
		db  *store.DB
		err error
	)
	if st.Driver == hookrt.DriverPostgres {
		db, err = store.OpenPostgres(ctx, st.DSN)
	} else {
		db, err = store.OpenSQLite(ctx, st.Path, store.SQLiteOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

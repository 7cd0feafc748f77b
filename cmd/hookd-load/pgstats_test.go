package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testPGDSN is the PostgreSQL of the repository's tests, or a skip.
func testPGDSN(t *testing.T) string {
	dsn := os.Getenv("HOOKD_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("HOOKD_REQUIRE_POSTGRES") != "" {
			t.Fatal("HOOKD_REQUIRE_POSTGRES is set but HOOKD_TEST_POSTGRES_DSN is not")
		}
		t.Skip("HOOKD_TEST_POSTGRES_DSN not set")
	}
	return dsn
}

func TestLoadReportsPostgresWALAndCommits(t *testing.T) {
	dsn := testPGDSN(t)
	ctx := context.Background()
	// The fake hookd writes a row per event in a transaction of its own,
	// as a store would: n commits, n write transactions, WAL.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	table := "hookd_load_test_" + newRunID()
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id text PRIMARY KEY, body text)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP TABLE "+table) })
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}

	writes := make(chan struct{}, 1)
	writes <- struct{}{} // one connection: the writes take turns
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT, onEmit: func(r *http.Request) error {
		<-writes
		defer func() { writes <- struct{}{} }()
		if _, err := conn.Exec(r.Context(), "INSERT INTO "+table+" VALUES ($1, repeat('x', 200))", newRunID()+newRunID()); err != nil {
			return err
		}
		if version >= 150000 {
			// Publish this backend's counts now rather than up to 10 s
			// later, so that the test need not wait for them.
			_, err := conn.Exec(r.Context(), "SELECT pg_stat_force_next_flush()")
			return err
		}
		return nil
	}})
	o := baseOptions(f, modeJWT)
	// Before the run, the idle commits are watched for -pg-settle.
	o.n, o.pgDSN, o.pgSettle = 100, dsn, 300*time.Millisecond
	if version < 150000 {
		o.pgSettle = 2 * time.Second // the statistics collector's delay
	}
	rep, err := load(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Postgres
	if p == nil {
		t.Fatalf("no PostgreSQL figures: %+v", rep)
	}
	var db string
	_ = conn.QueryRow(ctx, "SELECT current_database()").Scan(&db)
	// At least: other tests may share the server and the database.
	if p.IdleS < o.pgSettle.Seconds() || p.CountersSettleS < o.pgSettle.Seconds() {
		t.Errorf("idle watched %.3f s, counters read %.3f s after the drain; want ≥ -pg-settle %s", p.IdleS, p.CountersSettleS, o.pgSettle)
	}
	if p.Database != db || p.Commits < 100 || p.WriteXacts < 100 || p.WALBytes < 100*200 || p.CommitsPerDelivery < 1 || p.WriteXactsPerDeliver < 1 || p.WALBytesPerDelivery < 200 {
		t.Errorf("PostgreSQL figures over 100 inserts of 200 bytes: %+v", *p)
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, want := range []string{"PostgreSQL WAL", "bytes per delivery", "PostgreSQL commits", "in database " + db, "hookd idle on PostgreSQL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"wal_bytes_per_delivery"`, `"commits_per_delivery"`, `"write_xacts"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

func TestPGDSNErrors(t *testing.T) {
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT})
	o := baseOptions(f, modeJWT)
	o.pgDSN = "postgres://nobody@127.0.0.1:1/none?connect_timeout=5"
	if _, err := load(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "-pg-dsn") {
		t.Errorf("unreachable PostgreSQL: err = %v, want one naming -pg-dsn", err)
	}
	if _, err := parseFlags([]string{"-pg-settle", "1s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-pg-dsn") {
		t.Errorf("-pg-settle without -pg-dsn: err = %v", err)
	}
}

func TestBuildPGTakesOffIdleCommits(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// 20 commits/s idle for 10 s; the run: 1,000 deliveries, 600 commits
	// counted up to 10 s after the drain, 200 of which are idle ones.
	i0 := pgSample{at: at(0), commits: 1000, walBytes: 0}
	i1 := pgSample{at: at(10), commits: 1200, walBytes: 50000}
	p0 := pgSample{at: at(11), commits: 1220, walBytes: 60000, nextXID: 500}
	p1 := pgSample{at: at(21), commits: 1500, walBytes: 2060000, nextXID: 800}
	c1 := pgSample{at: at(31), commits: 1820}
	r := buildPG("hookd_load", i0, i1, p0, p1, c1, 1000)
	want := pgJS{
		Database: "hookd_load", WALBytes: 2000000, WALBytesPerDelivery: 2000, Commits: 600, CommitsPerDelivery: 0.4,
		WriteXacts: 300, WriteXactsPerDeliver: 0.3, CountersSettleS: 10, IdleS: 10, IdleCommitsPerS: 20, IdleWALBytesPerS: 5000,
	}
	if *r != want {
		t.Errorf("buildPG = %+v\nwant       %+v", *r, want)
	}
	// Without the idle watch (-pg-settle 0), nothing is taken off.
	if r := buildPG("x", pgSample{}, pgSample{}, p0, p1, p1, 1000); r.CommitsPerDelivery != 0.28 || r.IdleS != 0 {
		t.Errorf("no idle watch: %+v", *r)
	}
}

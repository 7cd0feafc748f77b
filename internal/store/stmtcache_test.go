package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
)

func openCached(t *testing.T) (*sql.DB, *cachingConn) {
	t.Helper()
	db := sql.OpenDB(cachingConnector{dsn: "file:" + filepath.Join(t.TempDir(), "c.db"), drv: &sqlite.Driver{}})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	var cc *cachingConn
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(c any) error { cc = c.(*cachingConn); return nil })
	conn.Close()
	return db, cc
}

func TestStatementCache(t *testing.T) {
	db, cc := openCached(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, s TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (n, s) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(cc.byQuery); got != 2 {
		t.Fatalf("cached %d statements after 11 execs of 2 texts; want 2", got)
	}
	// The same query while its own rows are still open: the inner one gets
	// a private statement, and both see the right rows.
	const q = `SELECT n, s FROM t WHERE n >= ? ORDER BY n`
	outer, err := db.QueryContext(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	var sum int
	for outer.Next() {
		var n int
		var s string
		if err := outer.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	outer.Close()
	if sum != 5+6+7+8+9 {
		t.Errorf("sum %d", sum)
	}
}

func TestStatementCacheNestedAndEviction(t *testing.T) {
	db, cc := openCached(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(ctx, `CREATE TABLE t (n INTEGER)`)
	for i := 0; i < 3; i++ {
		conn.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, i)
	}
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	outer, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for outer.Next() {
		var a int
		outer.Scan(&a)
		inner, err := conn.QueryContext(ctx, q, a) // same text, outer rows open
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var b int
			inner.Scan(&b)
			pairs = append(pairs, fmt.Sprint(a, b))
		}
		inner.Close()
	}
	outer.Close()
	if fmt.Sprint(pairs) != "[0 0 0 1 0 2 1 1 1 2 2 2]" {
		t.Errorf("nested results %v", pairs)
	}
	for i := 0; i < stmtCacheSize+20; i++ {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&n); err != nil || n != i {
			t.Fatalf("select %d: %d %v", i, n, err)
		}
	}
	if len(cc.byQuery) != stmtCacheSize || cc.lru.Len() != stmtCacheSize {
		t.Errorf("cache holds %d/%d statements; want the bound %d", len(cc.byQuery), cc.lru.Len(), stmtCacheSize)
	}
}

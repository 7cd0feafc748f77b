package store

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// SQLCounts is what a store has sent to its database since it opened: the
// cost of a delivery in statements and commits is their difference over a
// run divided by the deliveries (the engine's sqlcost test, and
// docs/scaling.md's model, read them). Every statement counts, River's
// included, since both share the store's connections.
type SQLCounts struct {
	// Statements are the SQL statements run, BEGIN and COMMIT excluded;
	// on PostgreSQL each is a network round trip (a pgx batch is one
	// round trip of several).
	Statements uint64
	// Begins and Commits are the explicit transactions begun and
	// committed (a statement outside a transaction commits on its own
	// and is counted in Statements only).
	Begins, Commits uint64
}

// onStatement, when a test sets it, sees the text of every SQLite
// statement (stateindex_test.go checks their query plans). Atomic: a
// store's own goroutines (the WAL checkpointer) run statements while a
// test sets or clears it.
var onStatement atomic.Pointer[func(query string)]

// noteStatement passes query to onStatement, if set.
func noteStatement(query string) {
	if f := onStatement.Load(); f != nil {
		(*f)(query)
	}
}

// sqlCounters are a store's SQLCounts, updated from its connections.
type sqlCounters struct {
	statements, begins, commits atomic.Uint64
}

func (c *sqlCounters) load() SQLCounts {
	return SQLCounts{Statements: c.statements.Load(), Begins: c.begins.Load(), Commits: c.commits.Load()}
}

// SQLCounts returns the counts since the store opened.
func (db *DB) SQLCounts() SQLCounts { return db.counts.load() }

// countingTx counts a SQLite transaction's commit.
type countingTx struct {
	driver.Tx
	c *sqlCounters
}

func (t countingTx) Commit() error {
	t.c.commits.Add(1)
	return t.Tx.Commit()
}

// pgCounter is the pgx tracer that counts a PostgreSQL store's
// statements. pgx runs BEGIN and COMMIT as statements too; they are
// told apart by their text.
type pgCounter struct{ c *sqlCounters }

var (
	_ pgx.QueryTracer    = pgCounter{}
	_ pgx.BatchTracer    = pgCounter{}
	_ pgx.CopyFromTracer = pgCounter{}
)

func (p pgCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	p.count(d.SQL)
	return ctx
}

func (pgCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (pgCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (p pgCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	p.count(d.SQL)
}

func (pgCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (p pgCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	p.c.statements.Add(1)
	return ctx
}

func (pgCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

func (p pgCounter) count(sql string) {
	switch {
	case hasWordPrefix(sql, "begin"):
		p.c.begins.Add(1)
	case hasWordPrefix(sql, "commit"):
		p.c.commits.Add(1)
	default:
		p.c.statements.Add(1)
	}
}

// hasWordPrefix reports whether sql starts with word, in any case.
func hasWordPrefix(sql, word string) bool {
	sql = strings.TrimLeft(sql, " \t\n")
	if len(sql) < len(word) || !strings.EqualFold(sql[:len(word)], word) {
		return false
	}
	return len(sql) == len(word) || sql[len(word)] == ' ' || sql[len(word)] == ';'
}

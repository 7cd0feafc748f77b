package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements kept per connection. hookd
// and River together run a few dozen distinct statements.
const stmtCacheSize = 256

// cachingConnector opens modernc.org/sqlite connections that keep their
// prepared statements, keyed by SQL text.
//
// Why: database/sql's Exec and Query without Prepare make the driver parse
// the SQL every time, and modernc's SQLite is C translated to Go, so parsing
// is slow: a profile of end-to-end delivery showed 38 % of all CPU in the
// SQL parser, most of it re-parsing River's job-completion query for every
// job. River's SQLite driver does not prepare its statements, so the cache
// has to sit below database/sql, where every query passes.
type cachingConnector struct {
	dsn    string
	drv    *sqlite.Driver
	counts *sqlCounters
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	counts := c.counts
	if counts == nil {
		counts = &sqlCounters{}
	}
	return &cachingConn{Conn: conn, byQuery: map[string]*list.Element{}, lru: list.New(), counts: counts}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// cachingConn wraps a driver connection. database/sql never uses one
// connection from two goroutines at once, so it needs no lock.
type cachingConn struct {
	driver.Conn
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List
	counts  *sqlCounters
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // rows of it are still open
}

var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.counts.begins.Add(1)
	return countingTx{tx, c.counts}, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	return errors.Join(append(errs, c.Conn.Close())...)
}

// acquire returns a prepared statement for query and a function to call
// when it is no longer in use. A statement whose rows are still open (a
// query issued while iterating another of the same text) gets a private,
// uncached statement instead.
func (c *cachingConn) acquire(ctx context.Context, query string) (driver.Stmt, func(), error) {
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if !cs.busy {
			c.lru.MoveToFront(e)
			cs.busy = true
			return cs.stmt, func() { cs.busy = false }, nil
		}
		s, err := c.PrepareContext(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	cs := &cachedStmt{query: query, stmt: s, busy: true}
	c.byQuery[query] = c.lru.PushFront(cs)
	if c.lru.Len() > stmtCacheSize {
		c.evict()
	}
	return s, func() { cs.busy = false }, nil
}

// evict drops the least recently used statement that is not in use.
func (c *cachingConn) evict() {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			continue
		}
		c.lru.Remove(e)
		delete(c.byQuery, cs.query)
		_ = cs.stmt.Close()
		return
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.counts.statements.Add(1)
	noteStatement(query)
	s, release, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.counts.statements.Add(1)
	noteStatement(query)
	s, release, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: r, release: release}, nil
}

// releasingRows gives its statement back when closed. It forwards the
// column-type interfaces database/sql uses for Scan.
type releasingRows struct {
	driver.Rows
	release func()
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *releasingRows) ColumnTypeScanType(i int) reflectType {
	return columnScanType(r.Rows, i)
}

package store

import (
	"github.com/hookrt/hookd/hook"

	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is a transaction (or, inside this package, a plain connection) of
// either dialect. Callers outside the package only pass it through; use
// [SQLTx] or [PgxTx] to wrap a transaction of their own.
type Tx interface {
	// Native returns the *sql.Tx or pgx.Tx behind it (nil for a connection).
	Native() any
	// Dialect names the database the transaction belongs to.
	Dialect() Dialect
	exec(ctx context.Context, q string, args ...any) (int64, error)
	queryRow(ctx context.Context, q string, args ...any) row
	query(ctx context.Context, q string, args ...any) (rows, error)
}

type row interface{ Scan(dest ...any) error }

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// SQLTx wraps a SQLite transaction so that hookd can write into it.
func SQLTx(tx *sql.Tx) Tx { return sqlQuerier{tx, tx} }

// PgxTx wraps a PostgreSQL transaction so that hookd can write into it.
func PgxTx(tx pgx.Tx) Tx { return pgxQuerier{tx, tx} }

type sqlExec interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type sqlQuerier struct {
	q  sqlExec
	tx *sql.Tx
}

func (s sqlQuerier) Native() any {
	if s.tx == nil {
		return nil
	}
	return s.tx
}
func (sqlQuerier) Dialect() Dialect { return SQLite }

func (s sqlQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, unavailable(err)
	}
	return res.RowsAffected()
}

func (s sqlQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return sqlRow{s.q.QueryRowContext(ctx, q, args...)}
}

func (s sqlQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return sqlRows{r}, nil
}

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return hook.ErrNotFound
	}
	return unavailable(err)
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type execer interface {
	Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
}

type pgxConn interface {
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
}

type pgxQuerier struct {
	q  pgxAny
	tx pgx.Tx
}

// pgxAny is what pgx.Tx and *pgxpool.Pool have in common.
type pgxAny interface {
	pgxConn
	execer
}

var (
	_ pgxAny = (*pgxpool.Pool)(nil)
	_ pgxAny = pgx.Tx(nil)
)

func (p pgxQuerier) Native() any {
	if p.tx == nil {
		return nil
	}
	return p.tx
}
func (pgxQuerier) Dialect() Dialect { return Postgres }

func (p pgxQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, rebind(Postgres, q), args...)
	if err != nil {
		return 0, unavailable(err)
	}
	return tag.RowsAffected(), nil
}

func (p pgxQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return pgxRow{p.q.QueryRow(ctx, rebind(Postgres, q), args...)}
}

func (p pgxQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, rebind(Postgres, q), args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return r, nil
}

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return hook.ErrNotFound
	}
	return unavailable(err)
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schema is the one table. raw_fields holds the whole event, so that nothing
// the sender added is lost; the other columns are what one queries on. Rows
// are in arrival order by rowid.
const schema = `CREATE TABLE IF NOT EXISTS events (
	event_id    TEXT PRIMARY KEY, -- EVENT_ID, or "sha256:" + hex of raw_fields
	received_at INTEGER NOT NULL, -- unix seconds, when this receiver stored it
	timestamp   INTEGER,          -- TIMESTAMP, unix seconds; NULL if absent or not a number
	module      TEXT NOT NULL,    -- MODULE, e.g. ISL_LIGHT
	event       TEXT NOT NULL,    -- EVENT, verbatim, e.g. NEWSESSION or NEW SESSION
	server_id   TEXT,             -- SERVERID
	domain_id   TEXT,             -- DOMAIN_ID
	session_id  TEXT,             -- SESSIONID
	raw_fields  TEXT NOT NULL     -- every field, URL-encoded, sorted by key
)`

// insertSQL stores an event unless its id is already there: a retry of an
// event that was stored (whose answer got lost) changes nothing.
const insertSQL = `INSERT INTO events
	(event_id, received_at, timestamp, module, event, server_id, domain_id, session_id, raw_fields)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (event_id) DO NOTHING`

// store is the SQLite database, with a single connection: SQLite has one
// writer anyway, and a single connection queues requests in database/sql
// instead of making them fail with SQLITE_BUSY.
type store struct {
	db *sql.DB
}

// openStore opens (creating if needed) the database at path in WAL mode and
// creates the table if missing.
//
// synchronous(FULL) makes every commit durable before the 200 is sent: the
// sender does not retry an acknowledged event, so a commit lost in a power
// cut would be an event lost.
func openStore(ctx context.Context, path string) (*store, error) {
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("database path %q must not contain '?'", path)
	}
	// Without the "file:" prefix the driver takes everything before '?' as
	// a plain file name, and the rest as its own settings.
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("open database %s: journal mode is %q, want wal", path, mode)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table in %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// insert stores evs in order, in one transaction: either all of them are
// committed or none is. It returns how many were new and how many were
// already stored.
func (s *store) insert(ctx context.Context, evs []event, receivedAt int64) (stored, duplicates int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() // a no-op once committed

	stmt, err := tx.PrepareContext(ctx, insertSQL)
	if err != nil {
		return 0, 0, err
	}
	defer stmt.Close()
	for _, ev := range evs {
		res, err := stmt.ExecContext(ctx, ev.id, receivedAt, ev.timestamp, ev.module, ev.name,
			ev.serverID, ev.domainID, ev.sessionID, ev.raw)
		if err != nil {
			return 0, 0, fmt.Errorf("insert event %s: %w", ev.id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, err
		}
		if n == 0 {
			duplicates++
		} else {
			stored++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("commit: %w", err)
	}
	return stored, duplicates, nil
}

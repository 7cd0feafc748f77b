package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schema is the three tables. Times are unix seconds. There is no password
// column: this example never stores one.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	domain     TEXT NOT NULL,
	username   TEXT NOT NULL,
	email      TEXT NOT NULL,
	fullname   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (domain, username)
);
CREATE INDEX IF NOT EXISTS users_email ON users (email COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS password_resets (
	id           INTEGER PRIMARY KEY,
	domain       TEXT NOT NULL,    -- as sent, possibly empty
	username     TEXT NOT NULL,    -- as sent, possibly empty
	email        TEXT NOT NULL,    -- as sent, possibly empty
	requested_at INTEGER NOT NULL,
	found        INTEGER NOT NULL  -- 1 if a user matched
);
CREATE TABLE IF NOT EXISTS notifications (
	id          INTEGER PRIMARY KEY,
	received_at INTEGER NOT NULL,
	body        TEXT NOT NULL      -- the JSON object, byte for byte as sent
);`

// store is the SQLite database, with a single connection: SQLite has one
// writer anyway, and a single connection queues requests in database/sql
// instead of making them fail with SQLITE_BUSY.
type store struct {
	db *sql.DB
}

// openStore opens (creating if needed) the database at path in WAL mode and
// creates the tables if missing.
func openStore(ctx context.Context, path string) (*store, error) {
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("database path %q must not contain '?'", path)
	}
	// Without the "file:" prefix the driver takes everything before '?' as
	// a plain file name, and the rest as its own settings.
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
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
		return nil, fmt.Errorf("create tables in %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// createUser stores a new user and returns its row id, or taken if the
// domain already has that username. The one statement decides, so two
// sign-ups racing for a name cannot both win.
func (s *store) createUser(ctx context.Context, domain, username, email, fullname string, now int64) (id int64, taken bool, err error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (domain, username, email, fullname, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (domain, username) DO NOTHING`,
		domain, username, email, fullname, now)
	if err != nil {
		return 0, false, fmt.Errorf("insert user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	if n == 0 {
		return 0, true, nil
	}
	id, err = res.LastInsertId()
	return id, false, err
}

// lookupEmail finds the user a forgotten password is for and returns the
// address to mail: by domain and username when both are given, else by
// e-mail (case-insensitive, within domain if given). found is false when
// nobody matches, or when there is nothing to look up by.
func (s *store) lookupEmail(ctx context.Context, domain, username, email string) (to string, found bool, err error) {
	var row *sql.Row
	switch {
	case domain != "" && username != "":
		row = s.db.QueryRowContext(ctx, `SELECT email FROM users WHERE domain = ? AND username = ?`, domain, username)
	case email != "":
		row = s.db.QueryRowContext(ctx, `SELECT email FROM users
			WHERE email = ? COLLATE NOCASE AND (? = '' OR domain = ?) ORDER BY rowid LIMIT 1`, email, domain, domain)
	default:
		return "", false, nil
	}
	switch err := row.Scan(&to); {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("look up user: %w", err)
	}
	return to, true, nil
}

// recordReset stores a forgot-password request, as it was sent.
func (s *store) recordReset(ctx context.Context, domain, username, email string, found bool, now int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO password_resets (domain, username, email, requested_at, found)
		VALUES (?, ?, ?, ?, ?)`, domain, username, email, now, found)
	if err != nil {
		return fmt.Errorf("insert password reset: %w", err)
	}
	return nil
}

// addNotification stores a notification's JSON object and returns its id.
func (s *store) addNotification(ctx context.Context, body string, now int64) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO notifications (received_at, body) VALUES (?, ?)`, now, body)
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	return res.LastInsertId()
}

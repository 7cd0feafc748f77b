package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"

	hookrt "github.com/hookrt/hookd/runtime"
)

// schema is the proxy's own table. It lives in hookd's SQLite file, next to
// hookd's tables, so that one transaction can cover a user and its event.
// Times are unix seconds.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	id         INTEGER PRIMARY KEY,
	username   TEXT NOT NULL UNIQUE,
	domain     TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL
)`

// createSchema creates the users table if it is missing.
func createSchema(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create the users table: %w", err)
	}
	return nil
}

// newUser is a user to create, as a client sends it.
type newUser struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
}

// user is a row of the users table.
type user struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Domain    string    `json:"domain"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// errUsernameTaken: another user has that username.
var errUsernameTaken = errors.New("username is taken")

// createUser inserts u and emits its USER_CREATE event in ONE transaction
// on hookd's database: the row and the event commit together, or neither
// does (a taken username, an event hookd refuses, a failed commit). It
// returns the user's ID and the event's EVENT_ID.
func createUser(ctx context.Context, rt *hookrt.Runtime, u newUser) (id int64, eventID string, err error) {
	tx, err := rt.DB().BeginTx(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback() // undoes the INSERT and the event, unless Commit ran

	err = tx.QueryRowContext(ctx, `INSERT INTO users (username, domain, email, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (username) DO NOTHING RETURNING id`, u.Username, u.Domain, u.Email, time.Now().Unix()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", errUsernameTaken
	} else if err != nil {
		return 0, "", err
	}

	// The event joins the proxy's transaction: it exists, and is delivered,
	// if and only if the Commit below succeeds.
	eventID, err = rt.EmitTx(ctx, hookrt.SQLTx(tx), map[string]string{
		"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USER_ID": strconv.FormatInt(id, 10),
		"USERNAME": u.Username, "DOMAIN": u.Domain, "EMAIL": u.Email,
	})
	if err != nil {
		return 0, "", err
	}
	if err := tx.Commit(); err != nil {
		return 0, "", err
	}
	return id, eventID, nil
}

// getUser returns the user called username, or sql.ErrNoRows.
func getUser(ctx context.Context, db *sql.DB, username string) (user, error) {
	var u user
	var created int64
	err := db.QueryRowContext(ctx, `SELECT id, username, domain, email, created_at FROM users WHERE username = ?`,
		username).Scan(&u.ID, &u.Username, &u.Domain, &u.Email, &created)
	u.CreatedAt = time.Unix(created, 0).UTC()
	return u, err
}

// Input limits, in bytes.
const (
	maxName     = 64
	maxEmail    = 254
	maxFullName = 128
	maxPassword = 128
)

// check reports the first thing wrong with u, naming the field.
func (u newUser) check() error {
	if err := checkName("username", u.Username); err != nil {
		return err
	}
	if err := checkName("domain", u.Domain); err != nil {
		return err
	}
	return checkEmail(u.Email)
}

// checkName accepts 1 to maxName letters, digits, '.', '_' and '-'.
func checkName(field, s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("%s: must be 1 to %d characters, got %d", field, maxName, len(s))
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-", r)) {
			return fmt.Errorf("%s: only ASCII letters, digits, '.', '_' and '-' are allowed, got %q", field, s)
		}
	}
	return nil
}

// checkEmail accepts one bare address: ann@example.com, not "Ann <ann@…>".
func checkEmail(s string) error {
	if s == "" || len(s) > maxEmail {
		return fmt.Errorf("email: must be 1 to %d bytes, got %d", maxEmail, len(s))
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("email: must be a bare address such as ann@example.com, got %q", s)
	}
	return nil
}

// checkText accepts up to max bytes of text without control characters.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s: must be at most %d bytes, got %d", field, max, len(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: control characters are not allowed", field)
		}
	}
	return nil
}

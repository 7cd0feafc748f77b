package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Domain tokens (hookd_domain_token, migration 6): the operator gives a
// domain's owner a bearer token that reaches only that domain. The store
// keeps its id, name, expiry and revocation, and only a hash of its secret
// (the runtime makes the secret and compares the hashes, domaintokens in
// runtime/domains_tokens.go).

// StoredToken is one domain token as stored.
type StoredToken struct {
	ID        string
	Domain    string
	Name      string
	Hash      string // hex SHA-256 of the secret
	CreatedAt time.Time
	CreatedBy string
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: not revoked
}

// Info is the token as listed (no secret).
func (t StoredToken) Info() hook.DomainToken {
	out := hook.DomainToken{ID: t.ID, Domain: t.Domain, Name: t.Name, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		out.ExpiresAt = &e
	}
	return out
}

func nullableMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := micros(t)
	return &n
}

func fromNullable(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromMicros(*n)
}

const tokenCols = `id, domain, name, hash, created_at, created_by, expires_at, revoked_at`

func scanToken(r row) (StoredToken, error) {
	var (
		t                StoredToken
		created          int64
		expires, revoked *int64
	)
	if err := r.Scan(&t.ID, &t.Domain, &t.Name, &t.Hash, &created, &t.CreatedBy, &expires, &revoked); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromNullable(expires), fromNullable(revoked)
	return t, nil
}

// CreateDomainToken stores t (its hash, never its secret), as actor.
func (db *DB) CreateDomainToken(ctx context.Context, t StoredToken, actor string, now time.Time) error {
	return db.change(ctx, now, Change{Actor: actor, Domain: t.Domain, Action: "token.create"}, false, func(tx Tx, _ int64) (any, error) {
		if _, err := tx.exec(ctx, `INSERT INTO hookd_domain_token (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			t.ID, t.Domain, t.Name, t.Hash, micros(t.CreatedAt), t.CreatedBy, nullableMicros(t.ExpiresAt)); err != nil {
			return nil, fmt.Errorf("store: create domain token: %w", err)
		}
		return t.Info(), nil
	})
}

// DomainToken returns the token id (revoked or expired ones too), or an
// error matching hook.ErrNotFound.
func (db *DB) DomainToken(ctx context.Context, id string) (StoredToken, error) {
	t, err := scanToken(db.conn().queryRow(ctx, `SELECT `+tokenCols+` FROM hookd_domain_token WHERE id = ?`, id))
	if err != nil && !errors.Is(err, hook.ErrNotFound) {
		return t, fmt.Errorf("store: domain token: %w", err)
	}
	return t, err
}

// DomainTokens returns domain's tokens that are neither revoked nor
// expired at now, oldest first.
func (db *DB) DomainTokens(ctx context.Context, domain string, now time.Time) ([]StoredToken, error) {
	rs, err := db.conn().query(ctx, `SELECT `+tokenCols+` FROM hookd_domain_token
		WHERE domain = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id`, domain, micros(now))
	if err != nil {
		return nil, fmt.Errorf("store: domain tokens: %w", err)
	}
	defer rs.Close()
	var out []StoredToken
	for rs.Next() {
		t, err := scanToken(rs)
		if err != nil {
			return nil, fmt.Errorf("store: domain tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, unavailable(rs.Err())
}

// RevokeDomainToken revokes domain's token id at now, as actor; an error
// matching hook.ErrNotFound if domain has no such live token.
func (db *DB) RevokeDomainToken(ctx context.Context, domain, id, actor string, now time.Time) error {
	return db.change(ctx, now, Change{Actor: actor, Domain: domain, Action: "token.revoke"}, false, func(tx Tx, _ int64) (any, error) {
		n, err := tx.exec(ctx, `UPDATE hookd_domain_token SET revoked_at = ? WHERE id = ? AND domain = ? AND revoked_at IS NULL`, micros(now), id, domain)
		if err != nil {
			return nil, fmt.Errorf("store: revoke domain token: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("domain %q has no token %q: %w", domain, id, hook.ErrNotFound)
		}
		return map[string]string{"token_id": id}, nil
	})
}

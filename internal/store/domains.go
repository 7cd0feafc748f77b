package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Domains as data (hookd_domain, migration 6): a domain's integration
// stored through the API, shared by every node. Every change bumps one
// counter (hookd_domain_revision) in the same transaction, and writes an
// audit record (hookd_audit) there too: a node that polls the counter and
// sees it move reloads the domains whose stamp moved, and the audit trail
// holds exactly the changes that were committed.
//
// The counter's row is also the lock that serialises changes on every
// node: a change updates it first and keeps its row lock until commit, so
// plugin version numbers (max + 1) and the per-domain version count hold
// however many nodes write at once. Changes are rare (people make them);
// one lock for all of them costs nothing that matters.

// DomainsChannel is the PostgreSQL NOTIFY channel a change is announced on
// (the payload is the new revision), for a node that LISTENs rather than
// waiting for its next poll.
const DomainsChannel = "hookd_domains"

// StoredDomain is one stored domain.
type StoredDomain struct {
	ID string
	// Spec is the domain's settings as JSON, with the keys of a [[domain]]
	// entry.
	Spec []byte
	// ActiveVersion is the plugin version it runs (0: none).
	ActiveVersion int
	// Revision counts the domain's changes.
	Revision int64
	// Stamp is the store-wide revision of its last change: a node that
	// applied the domain at Stamp has nothing to do for it.
	Stamp     int64
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// Change names one change for the audit trail: who made it, to which
// domain, and what kind of change (Action, e.g. "domain.put"); what
// changed (the detail) is computed inside the change's transaction.
type Change struct {
	Actor  string
	Domain string
	Action string
}

// change runs fn in a transaction that records c, with the detail fn
// returns (marshalled as JSON), in the audit trail. It takes the revision
// row's lock first, and holds it until commit; when bump is set it moves
// the revision too and hands fn the new one, to stamp the rows it changes.
func (db *DB) change(ctx context.Context, now time.Time, c Change, bump bool, fn func(tx Tx, stamp int64) (any, error)) error {
	return db.InTx(ctx, func(tx Tx) error {
		var stamp int64
		switch {
		case bump:
			if err := tx.queryRow(ctx, `UPDATE hookd_domain_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&stamp); err != nil {
				return fmt.Errorf("store: domains revision: %w", err)
			}
		case tx.Dialect() == Postgres: // SQLite has one writer: the transaction is the lock
			if err := tx.queryRow(ctx, `SELECT revision FROM hookd_domain_revision WHERE id = 1 FOR UPDATE`).Scan(&stamp); err != nil {
				return fmt.Errorf("store: domains lock: %w", err)
			}
		}
		d, err := fn(tx, stamp)
		if err != nil {
			return err
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("store: audit detail: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO hookd_audit (at, actor, domain, action, detail) VALUES (?, ?, ?, ?, ?)`,
			micros(now), c.Actor, c.Domain, c.Action, string(detail)); err != nil {
			return fmt.Errorf("store: audit: %w", err)
		}
		if bump && tx.Dialect() == Postgres {
			if _, err := tx.exec(ctx, `SELECT pg_notify(?, ?)`, DomainsChannel, fmt.Sprint(stamp)); err != nil {
				return fmt.Errorf("store: notify domains change: %w", err)
			}
		}
		return nil
	})
}

// DomainsRevision returns the store-wide domains revision: it moves with
// every change to a stored domain or its active plugin.
func (db *DB) DomainsRevision(ctx context.Context) (int64, error) {
	var rev int64
	if err := db.conn().queryRow(ctx, `SELECT revision FROM hookd_domain_revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("store: domains revision: %w", err)
	}
	return rev, nil
}

const domainCols = `id, spec, COALESCE(active_version, 0), revision, stamp, created_at, updated_at, updated_by`

func scanDomain(r row) (StoredDomain, error) {
	var (
		d                StoredDomain
		spec             string
		created, updated int64
	)
	if err := r.Scan(&d.ID, &spec, &d.ActiveVersion, &d.Revision, &d.Stamp, &created, &updated, &d.UpdatedBy); err != nil {
		return d, err
	}
	d.Spec, d.CreatedAt, d.UpdatedAt = []byte(spec), fromMicros(created), fromMicros(updated)
	return d, nil
}

// StoredDomains returns every stored domain, by id.
func (db *DB) StoredDomains(ctx context.Context) ([]StoredDomain, error) {
	rs, err := db.conn().query(ctx, `SELECT `+domainCols+` FROM hookd_domain ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: stored domains: %w", err)
	}
	defer rs.Close()
	var out []StoredDomain
	for rs.Next() {
		d, err := scanDomain(rs)
		if err != nil {
			return nil, fmt.Errorf("store: stored domains: %w", err)
		}
		out = append(out, d)
	}
	return out, unavailable(rs.Err())
}

// StoredDomain returns the stored domain id, or an error matching
// hook.ErrNotFound.
func (db *DB) StoredDomain(ctx context.Context, id string) (StoredDomain, error) {
	return storedDomain(ctx, db.conn(), id)
}

func storedDomain(ctx context.Context, tx Tx, id string) (StoredDomain, error) {
	d, err := scanDomain(tx.queryRow(ctx, `SELECT `+domainCols+` FROM hookd_domain WHERE id = ?`, id))
	if errors.Is(err, hook.ErrNotFound) {
		return d, fmt.Errorf("domain %q is not stored: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: domain %q: %w", id, err)
	}
	return d, nil
}

// PutDomain stores spec (JSON, validated by the caller) as domain id's
// settings, creating the domain or replacing its settings (its active
// plugin stays), and records the change, with the settings before and
// after, as made by actor.
func (db *DB) PutDomain(ctx context.Context, id string, spec []byte, actor string, now time.Time) (StoredDomain, error) {
	var out StoredDomain
	err := db.change(ctx, now, Change{Actor: actor, Domain: id, Action: "domain.put"}, true, func(tx Tx, stamp int64) (any, error) {
		detail := struct {
			Spec     json.RawMessage `json:"spec"`
			Previous json.RawMessage `json:"previous,omitempty"`
		}{Spec: spec}
		old, err := storedDomain(ctx, tx, id)
		switch {
		case errors.Is(err, hook.ErrNotFound):
			_, err = tx.exec(ctx, `INSERT INTO hookd_domain (id, spec, active_version, revision, stamp, created_at, updated_at, updated_by)
				VALUES (?, ?, NULL, 1, ?, ?, ?, ?)`, id, string(spec), stamp, micros(now), micros(now), actor)
		case err != nil:
			return nil, err
		default:
			detail.Previous = old.Spec
			_, err = tx.exec(ctx, `UPDATE hookd_domain SET spec = ?, revision = revision + 1, stamp = ?, updated_at = ?, updated_by = ?
				WHERE id = ?`, string(spec), stamp, micros(now), actor, id)
		}
		if err != nil {
			return nil, fmt.Errorf("store: put domain %q: %w", id, err)
		}
		out, err = storedDomain(ctx, tx, id)
		return detail, err
	})
	return out, err
}

// DeleteDomain deletes the stored domain id with its plugin versions and
// its tokens (its audit trail stays), as actor; an error matching
// hook.ErrNotFound if it is not stored.
func (db *DB) DeleteDomain(ctx context.Context, id, actor string, now time.Time) error {
	return db.change(ctx, now, Change{Actor: actor, Domain: id, Action: "domain.delete"}, true, func(tx Tx, _ int64) (any, error) {
		old, err := storedDomain(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		for _, q := range []string{`DELETE FROM hookd_plugin_version WHERE domain = ?`, `DELETE FROM hookd_domain_token WHERE domain = ?`,
			`DELETE FROM hookd_domain WHERE id = ?`} {
			if _, err := tx.exec(ctx, q, id); err != nil {
				return nil, fmt.Errorf("store: delete domain %q: %w", id, err)
			}
		}
		return map[string]any{"previous": json.RawMessage(old.Spec), "active_version": old.ActiveVersion}, nil
	})
}

// DomainAudit returns domain's audit records, newest first, at most limit
// (1 to 1000; other values mean 100).
func (db *DB) DomainAudit(ctx context.Context, domain string, limit int) ([]hook.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rs, err := db.conn().query(ctx, `SELECT id, at, actor, domain, action, detail FROM hookd_audit
		WHERE domain = ? ORDER BY id DESC LIMIT ?`, domain, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit of domain %q: %w", domain, err)
	}
	defer rs.Close()
	var out []hook.AuditEntry
	for rs.Next() {
		var (
			e      hook.AuditEntry
			at     int64
			detail string
		)
		if err := rs.Scan(&e.ID, &at, &e.Actor, &e.Domain, &e.Action, &detail); err != nil {
			return nil, fmt.Errorf("store: audit of domain %q: %w", domain, err)
		}
		e.At = fromMicros(at)
		if detail != "" && detail != "null" {
			e.Detail = json.RawMessage(detail)
		}
		out = append(out, e)
	}
	return out, unavailable(rs.Err())
}

// ListenDomains calls wake each time a domains change is announced on
// PostgreSQL (NOTIFY on [DomainsChannel], sent in the change's own
// transaction, so after its commit), until ctx ends: a node then applies
// a change in the time of a round trip instead of waiting for its next
// poll. The poll stays: a notification lost while the connection was
// down is caught by it. After an error the listener connects again a
// second later. On SQLite it returns at once (one node, which applies its
// own changes).
func (db *DB) ListenDomains(ctx context.Context, wake func()) {
	if db.dialect != Postgres {
		return
	}
	for ctx.Err() == nil {
		_ = db.listenDomains(ctx, wake)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listenDomains(ctx context.Context, wake func()) error {
	pc, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A listening connection must not go back to the pool: take it out,
	// and close it when done.
	c := pc.Hijack()
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, `LISTEN `+DomainsChannel); err != nil {
		return err
	}
	wake() // anything committed before LISTEN took effect
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

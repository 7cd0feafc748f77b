package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Plugin state (hookd_plugin_state, migration 5): the values WASM plugins
// keep with state_set and state_incr, by domain and key, and one row of
// totals per domain (hookd_plugin_state_usage) that the limits are checked
// against.
//
// Every write locks its domain's totals row first (an upsert, which takes
// the row lock on PostgreSQL and is the only writer on SQLite) and keeps it
// until commit, so that writes to one domain are serialised on every node:
// the count and byte limits hold however many instances and nodes write at
// once, and state_incr's read-add-write is atomic. Writes to different
// domains do not wait for each other. A COUNT/SUM over the domain's rows
// would need the same lock to be exact, and costs a scan of up to
// state_max_keys rows per write where the totals row costs one lookup.
//
// The totals count rows as stored, expired ones included until they are
// deleted: by the prune job ([DB.PruneState]), by a write that would pass
// a limit (which deletes its domain's expired rows, then checks again), by
// a write to the same key, or by a delete. So an expired key never stands
// in the way of a write, and reads treat it as absent.

// PluginState is the durable [hook.StateStore] of a store, on the wall
// clock. The runtime binds plugins to it once the store is open.
type PluginState struct{ DB *DB }

var _ hook.StateStore = PluginState{}

// Get implements hook.StateStore.
func (p PluginState) Get(ctx context.Context, domain, key string) ([]byte, error) {
	return p.DB.GetState(ctx, domain, key, time.Now())
}

// Set implements hook.StateStore.
func (p PluginState) Set(ctx context.Context, domain, key string, value []byte, ttl time.Duration, lim hook.StateLimits) error {
	return p.DB.SetState(ctx, domain, key, value, ttl, lim, time.Now())
}

// Incr implements hook.StateStore.
func (p PluginState) Incr(ctx context.Context, domain, key string, delta int64, ttl time.Duration, lim hook.StateLimits) (int64, error) {
	return p.DB.IncrState(ctx, domain, key, delta, ttl, lim, time.Now())
}

// Delete implements hook.StateStore.
func (p PluginState) Delete(ctx context.Context, domain, key string) error {
	return p.DB.DeleteState(ctx, domain, key, time.Now())
}

// GetState returns the value of key in domain as of now, or an error
// matching hook.ErrNotFound if it is absent or expired.
func (db *DB) GetState(ctx context.Context, domain, key string, now time.Time) ([]byte, error) {
	var v []byte
	err := db.conn().queryRow(ctx, `SELECT value FROM hookd_plugin_state
		WHERE domain = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`, domain, key, micros(now)).Scan(&v)
	switch {
	case err == hook.ErrNotFound:
		return nil, fmt.Errorf("state key %q: %w", key, hook.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("store: get plugin state: %w", err)
	case v == nil:
		v = []byte{}
	}
	return v, nil
}

// SetState stores value under key in domain as of now, with an expiry
// ttl from now (0: none), within lim (see [hook.StateStore]).
func (db *DB) SetState(ctx context.Context, domain, key string, value []byte, ttl time.Duration, lim hook.StateLimits, now time.Time) error {
	if lim.MaxValue > 0 && len(value) > lim.MaxValue {
		return stateTooLarge(key, len(value), lim)
	}
	if value == nil {
		value = []byte{} // NULL is not a value
	}
	err := db.InTx(ctx, func(tx Tx) error {
		w, err := beginStateWrite(ctx, tx, domain, key, now)
		if err != nil {
			return err
		}
		if err := w.fit(ctx, tx, len(value), lim, now); err != nil {
			return err
		}
		return w.put(ctx, tx, value, expiresAt(now, ttl), now)
	})
	return stateErr("set", err)
}

// IncrState adds delta to the integer at key in domain as of now and
// returns the sum; ttl applies when it creates the key (see
// [hook.StateStore]).
func (db *DB) IncrState(ctx context.Context, domain, key string, delta int64, ttl time.Duration, lim hook.StateLimits, now time.Time) (int64, error) {
	var next int64
	err := db.InTx(ctx, func(tx Tx) error {
		w, err := beginStateWrite(ctx, tx, domain, key, now)
		if err != nil {
			return err
		}
		cur, expires := int64(0), expiresAt(now, ttl)
		if w.live {
			if cur, err = parseStateInt(key, w.value); err != nil {
				return err
			}
			expires = w.expires
		}
		if next, err = addStateInt(key, cur, delta); err != nil {
			return err
		}
		text := strconv.AppendInt(nil, next, 10)
		if err := w.fit(ctx, tx, len(text), lim, now); err != nil {
			return err
		}
		return w.put(ctx, tx, text, expires, now)
	})
	return next, stateErr("incr", err)
}

// DeleteState removes key from domain; it returns an error matching
// hook.ErrNotFound if the key was absent or, as of now, expired (an
// expired row is removed all the same).
func (db *DB) DeleteState(ctx context.Context, domain, key string, now time.Time) error {
	err := db.InTx(ctx, func(tx Tx) error {
		u, err := lockUsage(ctx, tx, domain)
		if err != nil {
			return err
		}
		var (
			size    int64
			expires *int64
		)
		err = tx.queryRow(ctx, `DELETE FROM hookd_plugin_state WHERE domain = ? AND key = ? RETURNING size, expires_at`,
			domain, key).Scan(&size, &expires)
		if err == hook.ErrNotFound {
			return fmt.Errorf("state key %q: %w", key, hook.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := u.save(ctx, tx, domain, u.keys-1, u.bytes-size); err != nil {
			return err
		}
		if expires != nil && *expires <= micros(now) {
			return fmt.Errorf("state key %q: %w", key, hook.ErrNotFound)
		}
		return nil
	})
	return stateErr("delete", err)
}

// stateErr wraps a store error of a state operation; the errors of the
// hook.StateStore contract pass as they are.
func stateErr(op string, err error) error {
	if err == nil || isStateErr(err) {
		return err
	}
	return fmt.Errorf("store: %s plugin state: %w", op, err)
}

func isStateErr(err error) bool {
	for _, e := range []error{hook.ErrNotFound, hook.ErrStateFull, hook.ErrStateTooLarge, hook.ErrStateNotInteger} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// expiresAt is the expires_at of a key written at now with ttl: nil for
// none.
func expiresAt(now time.Time, ttl time.Duration) *int64 {
	if ttl <= 0 {
		return nil
	}
	at := micros(now.Add(ttl))
	return &at
}

// usage is a domain's totals row.
type usage struct{ keys, bytes int64 }

// lockUsage returns the totals of domain, creating its row if needed, and
// holds the row's lock until tx ends (see the notes at the top).
func lockUsage(ctx context.Context, tx Tx, domain string) (usage, error) {
	var u usage
	err := tx.queryRow(ctx, `INSERT INTO hookd_plugin_state_usage (domain, keys, bytes) VALUES (?, 0, 0)
		ON CONFLICT (domain) DO UPDATE SET keys = hookd_plugin_state_usage.keys
		RETURNING keys, bytes`, domain).Scan(&u.keys, &u.bytes)
	return u, err
}

// save writes the totals of domain.
func (u *usage) save(ctx context.Context, tx Tx, domain string, keys, bytes int64) error {
	u.keys, u.bytes = keys, bytes
	_, err := tx.exec(ctx, `UPDATE hookd_plugin_state_usage SET keys = ?, bytes = ? WHERE domain = ?`, keys, bytes, domain)
	return err
}

// stateWrite is one write of a key, its domain's totals locked: what the
// key holds now.
type stateWrite struct {
	domain, key string
	u           usage
	exists      bool   // a row is stored (maybe expired)
	live        bool   // and it has not expired
	size        int64  // its len(key) + len(value)
	value       []byte // its value, when live
	expires     *int64 // its expiry, when live
}

// beginStateWrite locks domain's totals and reads key's row.
func beginStateWrite(ctx context.Context, tx Tx, domain, key string, now time.Time) (*stateWrite, error) {
	u, err := lockUsage(ctx, tx, domain)
	if err != nil {
		return nil, err
	}
	w := &stateWrite{domain: domain, key: key, u: u}
	return w, w.read(ctx, tx, now)
}

func (w *stateWrite) read(ctx context.Context, tx Tx, now time.Time) error {
	w.exists, w.live, w.size, w.value, w.expires = false, false, 0, nil, nil
	var (
		value   []byte
		expires *int64
	)
	err := tx.queryRow(ctx, `SELECT value, size, expires_at FROM hookd_plugin_state WHERE domain = ? AND key = ?`,
		w.domain, w.key).Scan(&value, &w.size, &expires)
	if err == hook.ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	w.exists = true
	if expires == nil || *expires > micros(now) {
		w.live, w.value, w.expires = true, value, expires
	}
	return nil
}

// fit checks that a value of n bytes fits the limits, deleting the
// domain's expired rows first when it would not.
func (w *stateWrite) fit(ctx context.Context, tx Tx, n int, lim hook.StateLimits, now time.Time) error {
	if lim.MaxValue > 0 && n > lim.MaxValue {
		return stateTooLarge(w.key, n, lim)
	}
	over := func() error {
		keys, bytes := w.u.keys, w.u.bytes-w.size+int64(len(w.key)+n)
		if !w.exists {
			keys++
		}
		return stateFull(w.domain, int(keys), bytes, !w.exists, bytes > w.u.bytes, lim)
	}
	if over() == nil {
		return nil
	}
	if _, err := deleteExpiredState(ctx, tx, w.domain, &w.u, now, 0); err != nil {
		return err
	}
	if err := w.read(ctx, tx, now); err != nil {
		return err
	}
	return over()
}

// put writes the key's new value and the domain's new totals.
func (w *stateWrite) put(ctx context.Context, tx Tx, value []byte, expires *int64, now time.Time) error {
	size := int64(len(w.key) + len(value))
	if _, err := tx.exec(ctx, `INSERT INTO hookd_plugin_state (domain, key, value, size, expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, key) DO UPDATE SET value = excluded.value, size = excluded.size,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		w.domain, w.key, value, size, expires, micros(now)); err != nil {
		return err
	}
	keys := w.u.keys
	if !w.exists {
		keys++
	}
	return w.u.save(ctx, tx, w.domain, keys, w.u.bytes-w.size+size)
}

// deleteExpiredState deletes up to limit (0: all) rows of domain expired
// as of now and takes them off u, whose row tx holds; it returns how many
// it deleted.
func deleteExpiredState(ctx context.Context, tx Tx, domain string, u *usage, now time.Time, limit int) (int64, error) {
	q := `DELETE FROM hookd_plugin_state WHERE domain = ? AND expires_at <= ? RETURNING size`
	args := []any{domain, micros(now)}
	if limit > 0 {
		q = `DELETE FROM hookd_plugin_state WHERE domain = ? AND key IN (
			SELECT key FROM hookd_plugin_state WHERE domain = ? AND expires_at <= ? LIMIT ?) RETURNING size`
		args = []any{domain, domain, micros(now), limit}
	}
	rs, err := tx.query(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	var n, bytes int64
	for rs.Next() {
		var size int64
		if err := rs.Scan(&size); err != nil {
			rs.Close()
			return 0, err
		}
		n, bytes = n+1, bytes+size
	}
	rs.Close()
	if err := unavailable(rs.Err()); err != nil || n == 0 {
		return 0, err
	}
	return n, u.save(ctx, tx, domain, u.keys-n, u.bytes-bytes)
}

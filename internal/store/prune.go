package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Retention says what PruneBatch may delete: history that became final
// before its cutoff. A zero cutoff keeps that kind forever.
type Retention struct {
	Kept time.Time // delivered and discarded deliveries
	Dead time.Time // dead letters
}

// later returns the later of two cutoffs, zero when both are.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// PruneBatch deletes up to limit events, oldest first, whose every
// delivery is final and past its cutoff (never a pending or retrying one),
// with their deliveries, attempts and session records, in one transaction.
// after is where the previous batch stopped (zero: the oldest); it returns
// how many events it deleted and where to go on from, or a zero cursor
// when no prunable event is left.
func (db *DB) PruneBatch(ctx context.Context, r Retention, after Cursor, limit int) (int, Cursor, error) {
	horizon := later(r.Kept, r.Dead)
	if horizon.IsZero() {
		return 0, Cursor{}, nil
	}
	// A zero cutoff keeps that kind: no final time is before 0.
	kept, dead := micros0(r.Kept), micros0(r.Dead)
	var (
		ids  []any
		next Cursor
	)
	err := db.InTx(ctx, func(tx Tx) error {
		ids, next = ids[:0], Cursor{}
		rs, err := tx.query(ctx, fmt.Sprintf(`SELECT e.id, e.created_at FROM hookd_event e
			WHERE e.created_at < ? AND (e.created_at > ? OR (e.created_at = ? AND e.id > ?))
			AND NOT EXISTS (SELECT 1 FROM hookd_delivery d WHERE d.event_id = e.id AND (
				d.state IN ('pending', 'retrying')
				OR (d.state = 'dead' AND d.updated_at >= ?)
				OR (d.state IN ('delivered', 'discarded') AND d.updated_at >= ?)))
			ORDER BY e.created_at, e.id LIMIT %d`, limit),
			micros(horizon), after.At, after.At, after.ID, dead, kept)
		if err != nil {
			return err
		}
		for rs.Next() {
			if err := rs.Scan(&next.ID, &next.At); err != nil {
				rs.Close()
				return err
			}
			ids = append(ids, next.ID)
		}
		rs.Close()
		if err := unavailable(rs.Err()); err != nil || len(ids) == 0 {
			return err
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
		for _, q := range []string{
			`DELETE FROM hookd_attempt WHERE delivery_id IN (SELECT id FROM hookd_delivery WHERE event_id IN ` + in + `)`,
			`DELETE FROM hookd_session_event WHERE event_id IN ` + in,
			`DELETE FROM hookd_delivery WHERE event_id IN ` + in,
			`DELETE FROM hookd_event WHERE id IN ` + in,
		} {
			if _, err := tx.exec(ctx, q, ids...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, Cursor{}, fmt.Errorf("store: prune: %w", err)
	}
	if len(ids) < limit {
		next = Cursor{}
	}
	return len(ids), next, nil
}

// Cursor is a position in the events, by creation time and ID.
type Cursor struct {
	At int64 // unix microseconds
	ID string
}

// micros0 is micros, with the zero time as 0.
func micros0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// PruneIdempotency deletes the idempotency keys claimed before cutoff.
func (db *DB) PruneIdempotency(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := db.conn().exec(ctx, `DELETE FROM hookd_idempotency WHERE created_at < ?`, micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: prune idempotency keys: %w", err)
	}
	return n, nil
}

// Checkpoint copies SQLite's write-ahead log into the database and
// truncates it, so that the disk pruning freed shows; a no-op on
// PostgreSQL (its autovacuum reuses the space).
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	if _, err := db.sqldb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("store: checkpoint: %w", unavailable(err))
	}
	return nil
}

// PruneState deletes the plugin state that expired before now, domain by
// domain, at most batch rows per transaction (each holds its domain's
// totals row, as every write of plugin state does, so plugins' writes wait
// for one batch at most; batch <= 0: all of a domain's in one), and
// returns how many rows it deleted.
func (db *DB) PruneState(ctx context.Context, now time.Time, batch int) (int64, error) {
	var domains []string
	rs, err := db.conn().query(ctx, `SELECT domain FROM hookd_plugin_state_usage ORDER BY domain`)
	if err != nil {
		return 0, fmt.Errorf("store: prune plugin state: %w", err)
	}
	for rs.Next() {
		var d string
		if err := rs.Scan(&d); err != nil {
			rs.Close()
			return 0, fmt.Errorf("store: prune plugin state: %w", err)
		}
		domains = append(domains, d)
	}
	rs.Close()
	if err := unavailable(rs.Err()); err != nil {
		return 0, fmt.Errorf("store: prune plugin state: %w", err)
	}
	var total int64
	for _, d := range domains {
		for {
			var n int64
			err := db.InTx(ctx, func(tx Tx) error {
				u, err := lockUsage(ctx, tx, d)
				if err != nil {
					return err
				}
				n, err = deleteExpiredState(ctx, tx, d, &u, now, batch)
				return err
			})
			if err != nil {
				return total, fmt.Errorf("store: prune plugin state of domain %q: %w", d, err)
			}
			total += n
			if batch <= 0 || n < int64(batch) {
				break
			}
		}
	}
	return total, nil
}

package store

import (
	"github.com/hookrt/hookd/hook"

	"context"
	"encoding/json"
	"fmt"
)

// ArmBatch notes that target has a pending combined delivery and reports
// whether the caller must schedule the target's batch job (none is
// scheduled yet). Run it in the emitting transaction: together with
// TakeBatch, which disarms the target in its own transaction when nothing
// is pending, it guarantees that a pending delivery always has a job and
// that a target never has two.
//
// On PostgreSQL both lock the target's row first (FOR UPDATE), so that a
// TakeBatch that finds nothing cannot disarm the target under an emit
// that armed it (saw the job) but has not committed yet: it waits for that
// commit, and then sees the delivery. On SQLite there is one writer.
func ArmBatch(ctx context.Context, tx Tx, target string) (bool, error) {
	var armed int
	switch err := tx.queryRow(ctx, `SELECT has_job FROM hookd_batch WHERE target = ?`+forUpdate(tx.Dialect()), target).Scan(&armed); {
	case err == hook.ErrNotFound:
		n, err := tx.exec(ctx, `INSERT INTO hookd_batch (target, has_job) VALUES (?, 1) ON CONFLICT (target) DO NOTHING`, target)
		if err != nil {
			return false, fmt.Errorf("store: arm batch %s: %w", target, err)
		}
		if n == 1 {
			return true, nil
		}
		return ArmBatch(ctx, tx, target) // inserted meanwhile by another emit: lock that row
	case err != nil:
		return false, fmt.Errorf("store: arm batch %s: %w", target, err)
	case armed != 0:
		return false, nil
	}
	if _, err := tx.exec(ctx, `UPDATE hookd_batch SET has_job = 1 WHERE target = ?`, target); err != nil {
		return false, fmt.Errorf("store: arm batch %s: %w", target, err)
	}
	return true, nil
}

// forUpdate is the row lock a read takes to order itself against a
// concurrent writer of the row: PostgreSQL's FOR UPDATE; nothing on
// SQLite, whose one writer orders everything.
func forUpdate(d Dialect) string {
	if d == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// TakeBatch returns up to limit live deliveries of target, oldest first,
// with their events, and the number of failed batch attempts in a row. When
// there are none it disarms the target, and the batch job ends.
func (db *DB) TakeBatch(ctx context.Context, target string, limit int) ([]*Work, int, error) {
	var (
		works    []*Work
		failures int
	)
	err := db.InTx(ctx, func(tx Tx) error {
		works = works[:0]
		// The row first (see ArmBatch): an emit that armed it commits
		// before this reads the deliveries.
		switch err := tx.queryRow(ctx, `SELECT failures FROM hookd_batch WHERE target = ?`+forUpdate(tx.Dialect()), target).Scan(&failures); {
		case err == hook.ErrNotFound:
		case err != nil:
			return err
		}
		rs, err := tx.query(ctx, fmt.Sprintf(`SELECT d.id, d.state, d.gen, d.attempts, d.base_attempts, d.since, e.id, e.created_at, e.fields
			FROM hookd_delivery d JOIN hookd_event e ON e.id = d.event_id
			WHERE d.target = ? AND d.state IN ('pending', 'retrying') ORDER BY d.id LIMIT %d`, limit), target)
		if err != nil {
			return err
		}
		for rs.Next() {
			var (
				w           Work
				state       string
				since, evAt int64
				fields      string
			)
			if err := rs.Scan(&w.ID, &state, &w.Gen, &w.Attempts, &w.BaseAttempts, &since, &w.Event.ID, &evAt, &fields); err != nil {
				rs.Close()
				return err
			}
			if err := json.Unmarshal([]byte(fields), &w.Event.Fields); err != nil {
				rs.Close()
				return fmt.Errorf("decode event %s: %w", w.Event.ID, err)
			}
			w.Target, w.State, w.Since, w.Event.Created = target, hook.DeliveryState(state), fromMicros(since), fromMicros(evAt)
			works = append(works, &w)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return unavailable(err)
		}
		if len(works) == 0 {
			_, err := tx.exec(ctx, `UPDATE hookd_batch SET has_job = 0, failures = 0 WHERE target = ?`, target)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: take batch of %s: %w", target, err)
	}
	return works, failures, nil
}

// BatchFailures sets the count of failed batch attempts in a row of target.
func (db *DB) BatchFailures(ctx context.Context, target string, n int) error {
	if _, err := db.conn().exec(ctx, `UPDATE hookd_batch SET failures = ? WHERE target = ?`, n, target); err != nil {
		return fmt.Errorf("store: batch failures of %s: %w", target, err)
	}
	return nil
}

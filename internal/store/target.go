package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TargetRow is the stored state of a target that is not enabled.
type TargetRow struct {
	Name   string
	State  string // hook.TargetDisabled or hook.TargetPaused
	Reason string
	Actor  string // "operator", or "hookd" for an automatic change
	Since  time.Time
}

// SetTargetState disables or pauses target (state is hook.TargetDisabled
// or hook.TargetPaused), replacing what was stored. A target without a row
// is enabled.
func (db *DB) SetTargetState(ctx context.Context, target, state, reason, actor string) error {
	_, err := db.conn().exec(ctx, `INSERT INTO hookd_target (name, state, reason, actor, disabled_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason, actor = excluded.actor,
		disabled_at = excluded.disabled_at`,
		target, state, clean(reason), actor, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: %s target %s: %w", state, target, err)
	}
	return nil
}

// ClearTargetState enables target, in tx: it lifts a disabling or a pause.
func ClearTargetState(ctx context.Context, tx Tx, target string) error {
	if _, err := tx.exec(ctx, `DELETE FROM hookd_target WHERE name = ?`, target); err != nil {
		return fmt.Errorf("store: enable target %s: %w", target, err)
	}
	return nil
}

// TargetStates returns the targets that are not enabled, by name.
func (db *DB) TargetStates(ctx context.Context) (map[string]TargetRow, error) {
	rs, err := db.conn().query(ctx, `SELECT name, state, reason, actor, disabled_at FROM hookd_target`)
	if err != nil {
		return nil, fmt.Errorf("store: target states: %w", err)
	}
	defer rs.Close()
	out := map[string]TargetRow{}
	for rs.Next() {
		var r TargetRow
		var since int64
		if err := rs.Scan(&r.Name, &r.State, &r.Reason, &r.Actor, &since); err != nil {
			return nil, fmt.Errorf("store: target states: %w", err)
		}
		r.Since = fromMicros(since)
		out[r.Name] = r
	}
	return out, unavailable(rs.Err())
}

// TargetState returns the stored state of one target, and false when it is
// enabled.
func (db *DB) TargetState(ctx context.Context, target string) (TargetRow, bool, error) {
	r := TargetRow{Name: target}
	var since int64
	err := db.conn().queryRow(ctx, `SELECT state, reason, actor, disabled_at FROM hookd_target WHERE name = ?`, target).
		Scan(&r.State, &r.Reason, &r.Actor, &since)
	if err == hook.ErrNotFound {
		return TargetRow{}, false, nil
	}
	if err != nil {
		return TargetRow{}, false, fmt.Errorf("store: target %s: %w", target, err)
	}
	r.Since = fromMicros(since)
	return r, true, nil
}

// TargetLoad is what waits for one target.
type TargetLoad struct {
	Pending       int       // live deliveries: pending or retrying
	OldestPending time.Time // when the oldest of them was created; zero without any
	LastError     string    // the last attempt error of its most recently failed delivery (not why hookd gave up)
	LastErrorAt   time.Time
}

// TargetLoads returns, per target, its live deliveries and its latest
// error.
func (db *DB) TargetLoads(ctx context.Context) (map[string]TargetLoad, error) {
	out := map[string]TargetLoad{}
	c := db.conn()
	rs, err := c.query(ctx, `SELECT target, COUNT(*), MIN(created_at) FROM hookd_delivery
		WHERE state IN ('pending', 'retrying') AND `+notDelivered+` GROUP BY target`)
	if err != nil {
		return nil, fmt.Errorf("store: target loads: %w", err)
	}
	for rs.Next() {
		var (
			name   string
			n      int
			oldest int64
		)
		if err := rs.Scan(&name, &n, &oldest); err != nil {
			rs.Close()
			return nil, fmt.Errorf("store: target loads: %w", err)
		}
		out[name] = TargetLoad{Pending: n, OldestPending: fromMicros(oldest)}
	}
	rs.Close()
	if err := unavailable(rs.Err()); err != nil {
		return nil, err
	}
	// The latest failure per target: the newest delivery with an
	// attempt's error (a dead letter never attempted has none).
	rs, err = c.query(ctx, `SELECT d.target, d.last_error, d.updated_at FROM hookd_delivery d
		JOIN (SELECT target, MAX(id) AS id FROM hookd_delivery WHERE last_error <> '' AND last_error NOT LIKE ?
		      GROUP BY target) m ON m.id = d.id`, gaveUpPrefix+"%")
	if err != nil {
		return nil, fmt.Errorf("store: target errors: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			name, msg string
			at        int64
		)
		if err := rs.Scan(&name, &msg, &at); err != nil {
			return nil, fmt.Errorf("store: target errors: %w", err)
		}
		l := out[name]
		l.LastError, l.LastErrorAt = AttemptError(msg), fromMicros(at)
		out[name] = l
	}
	return out, unavailable(rs.Err())
}

// Rearmed is a live delivery given a new generation, whose new job must
// carry Gen and be due at Next.
type Rearmed struct {
	ID   int64
	Gen  int
	Next time.Time
}

// Rearm gives every live delivery of target a new generation, in tx, so
// that the jobs already scheduled for them (snoozed while the target was
// paused) retire, and returns them for new jobs. The deliveries keep their
// attempts, age and next attempt time.
func Rearm(ctx context.Context, tx Tx, target string) ([]Rearmed, error) {
	rs, err := tx.query(ctx, `UPDATE hookd_delivery SET gen = gen + 1
		WHERE target = ? AND state IN ('pending', 'retrying') RETURNING id, gen, COALESCE(next_attempt_at, 0)`, target)
	if err != nil {
		return nil, fmt.Errorf("store: rearm %s: %w", target, err)
	}
	defer rs.Close()
	var out []Rearmed
	for rs.Next() {
		var (
			r    Rearmed
			next int64
		)
		if err := rs.Scan(&r.ID, &r.Gen, &next); err != nil {
			return nil, fmt.Errorf("store: rearm %s: %w", target, err)
		}
		if next > 0 {
			r.Next = fromMicros(next)
		}
		out = append(out, r)
	}
	return out, unavailable(rs.Err())
}

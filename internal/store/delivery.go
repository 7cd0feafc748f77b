package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

func micros(t time.Time) int64 { return t.UnixMicro() }
func fromMicros(n int64) time.Time {
	return time.UnixMicro(n).UTC()
}

// clean makes arbitrary bytes storable as TEXT in both databases:
// PostgreSQL refuses invalid UTF-8 and NUL.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// Work is what a delivery worker needs to make one attempt.
type Work struct {
	ID           int64
	Target       string
	State        hook.DeliveryState
	Gen          int
	Attempts     int
	BaseAttempts int
	Since        time.Time
	LastError    string // the last attempt's error; "" before the first failure
	Event        hook.Event
}

// LoadWork reads a delivery and its event.
func (db *DB) LoadWork(ctx context.Context, id int64) (*Work, error) {
	var (
		w      Work
		state  string
		since  int64
		evAt   int64
		fields string
	)
	err := db.conn().queryRow(ctx, `SELECT d.target, d.state, d.gen, d.attempts, d.base_attempts, d.since, d.last_error,
		e.id, e.created_at, e.fields
		FROM hookd_delivery d JOIN hookd_event e ON e.id = d.event_id WHERE d.id = ?`, id).
		Scan(&w.Target, &state, &w.Gen, &w.Attempts, &w.BaseAttempts, &since, &w.LastError, &w.Event.ID, &evAt, &fields)
	if err != nil {
		return nil, fmt.Errorf("store: load delivery %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(fields), &w.Event.Fields); err != nil {
		return nil, fmt.Errorf("store: decode event %s: %w", w.Event.ID, err)
	}
	w.ID, w.State, w.Since, w.Event.Created = id, hook.DeliveryState(state), fromMicros(since), fromMicros(evAt)
	return &w, nil
}

// gaveUpSep joins a dead letter's last attempt error to why hookd gave
// up; gaveUpPrefix starts the reason of one that was never attempted.
const (
	gaveUpSep    = " — gave up: "
	gaveUpPrefix = "gave up: "
)

// GaveUp is the error a dead letter keeps: its last attempt's error (""
// if none was made) and why hookd stopped, as in
// "HTTP 500: database is down — gave up: next attempt would pass the
// maximum age 40s". [AttemptError] takes the attempt's part back.
func GaveUp(lastErr, why string) string {
	if lastErr = AttemptError(lastErr); lastErr == "" {
		return gaveUpPrefix + why
	}
	return lastErr + gaveUpSep + why
}

// AttemptError returns the attempt's error in a delivery's last error:
// without the give-up reason GaveUp adds; "" when no attempt failed.
func AttemptError(lastErr string) string {
	if strings.HasPrefix(lastErr, gaveUpPrefix) {
		return ""
	}
	if i := strings.Index(lastErr, gaveUpSep); i >= 0 {
		return lastErr[:i]
	}
	return lastErr
}

// Outcome is how an attempt (or a decision without one) leaves a delivery.
type Outcome struct {
	State       hook.DeliveryState
	NextAttempt time.Time // zero unless State is hook.StateRetrying
	Error       string    // the attempt's error, or why the delivery is dead
}

// Record is one attempt (or decision) to store with [RecordTx].
type Record struct {
	ID      int64
	Gen     int
	Attempt *hook.Attempt // nil for a decision without an attempt
	Outcome Outcome
}

// RecordTx stores r in tx: the attempt, if any, and the delivery's new
// state. It does nothing (and returns hook.ErrConflict) if the delivery's
// generation is no longer r.Gen or it is no longer live: an operator
// replayed or discarded it meanwhile. The engine stores many records in
// one transaction (group commit): that is what lets a single SQLite writer
// keep up with many workers.
func RecordTx(ctx context.Context, tx Tx, r Record) error {
	return recordAttempt(ctx, tx, r.ID, r.Gen, r.Attempt, r.Outcome)
}

// Finish moves delivery id to out without an attempt (max age reached,
// target gone).
func (db *DB) Finish(ctx context.Context, id int64, gen int, out Outcome) error {
	return recordAttempt(ctx, db.conn(), id, gen, nil, out)
}

func recordAttempt(ctx context.Context, tx Tx, id int64, gen int, a *hook.Attempt, out Outcome) error {
	now := time.Now()
	var next any
	if !out.NextAttempt.IsZero() {
		next = micros(out.NextAttempt)
	}
	inc, status, summary := 0, 0, ""
	if a != nil {
		inc, status, summary = 1, a.Status, a.Summary
	}
	var n int
	err := tx.queryRow(ctx, `UPDATE hookd_delivery SET state = ?, attempts = attempts + ?, updated_at = ?,
		next_attempt_at = ?, held_until = NULL, last_status = CASE WHEN ? = 1 THEN ? ELSE last_status END, last_error = ?,
		last_summary = CASE WHEN ? = 1 THEN ? ELSE last_summary END
		WHERE id = ? AND gen = ? AND state IN ('pending', 'retrying') RETURNING attempts`,
		string(out.State), inc, micros(now), next, inc, status, clean(out.Error), inc, clean(summary), id, gen).Scan(&n)
	if err == hook.ErrNotFound {
		return fmt.Errorf("store: delivery %d changed meanwhile: %w", id, hook.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: update delivery %d: %w", id, err)
	}
	if a == nil {
		return nil
	}
	_, err = tx.exec(ctx, `INSERT INTO hookd_attempt (delivery_id, n, at, latency_us, status, error, response, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, n, micros(a.At), a.Latency.Microseconds(), a.Status, clean(a.Error), clean(a.Response), clean(a.Summary))
	if err != nil {
		return fmt.Errorf("store: insert attempt of delivery %d: %w", id, err)
	}
	return nil
}

// Requeue makes delivery id live again for an operator's replay: a new
// generation, a fresh attempt budget and age. It returns the generation the
// new job must carry and the delivery's target. A delivered delivery cannot
// be replayed (hook.ErrConflict).
func Requeue(ctx context.Context, tx Tx, id int64) (int, string, error) {
	var (
		gen    int
		target string
	)
	now := micros(time.Now())
	err := tx.queryRow(ctx, `UPDATE hookd_delivery SET state = 'pending', gen = gen + 1, base_attempts = attempts,
		since = ?, updated_at = ?, next_attempt_at = ?, held_until = NULL
		WHERE id = ? AND state IN ('pending', 'retrying', 'dead', 'discarded') RETURNING gen, target`,
		now, now, now, id).Scan(&gen, &target)
	if err == hook.ErrNotFound {
		return 0, "", stateConflict(ctx, tx, id, "retry")
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: requeue delivery %d: %w", id, err)
	}
	return gen, target, nil
}

// Requeued is a delivery made live again by RequeueMatching.
type Requeued struct {
	ID     int64
	Gen    int
	Target string
}

// RequeueMatching replays, in tx, up to limit deliveries in state (dead,
// discarded or retrying) of target ("" for any) created at or after since,
// as Requeue does for one, and returns them. They no longer match once
// replayed, so calling it again takes the next ones.
func RequeueMatching(ctx context.Context, tx Tx, state hook.DeliveryState, target string, since time.Time, limit int) ([]Requeued, error) {
	now := micros(time.Now())
	cond := ""
	if state != hook.StateDelivered {
		cond = " AND " + notDelivered // the state index's condition
	}
	rs, err := tx.query(ctx, fmt.Sprintf(`UPDATE hookd_delivery SET state = 'pending', gen = gen + 1, base_attempts = attempts,
		since = ?, updated_at = ?, next_attempt_at = ?, held_until = NULL
		WHERE id IN (SELECT id FROM hookd_delivery WHERE state = ? AND (? = '' OR target = ?) AND created_at >= ?%s
		             ORDER BY id LIMIT %d)
		RETURNING id, gen, target`, cond, limit),
		now, now, now, string(state), target, target, micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: replay %s deliveries: %w", state, err)
	}
	defer rs.Close()
	var out []Requeued
	for rs.Next() {
		var r Requeued
		if err := rs.Scan(&r.ID, &r.Gen, &r.Target); err != nil {
			return nil, fmt.Errorf("store: replay %s deliveries: %w", state, err)
		}
		out = append(out, r)
	}
	return out, unavailable(rs.Err())
}

// ReleaseHeld ends the lease of delivery id, in tx: its emitting node
// hands it over to a River job instead of attempting it.
func ReleaseHeld(ctx context.Context, tx Tx, id int64) error {
	if _, err := tx.exec(ctx, `UPDATE hookd_delivery SET held_until = NULL WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: release delivery %d: %w", id, err)
	}
	return nil
}

// TakeHeld ends, in tx, the leases that ran out before cutoff (up to
// limit) and returns the deliveries still live among them: their node
// died or stopped before it settled them, and the caller gives each a
// River job. Concurrent callers on several nodes take each delivery once.
func TakeHeld(ctx context.Context, tx Tx, cutoff time.Time, limit int) ([]Requeued, error) {
	rs, err := tx.query(ctx, fmt.Sprintf(`UPDATE hookd_delivery SET held_until = NULL
		WHERE id IN (SELECT id FROM hookd_delivery WHERE held_until IS NOT NULL AND held_until < ? ORDER BY held_until LIMIT %d)
		  AND held_until IS NOT NULL
		RETURNING id, gen, target, state`, limit), micros(cutoff))
	if err != nil {
		return nil, fmt.Errorf("store: take held deliveries: %w", err)
	}
	defer rs.Close()
	var out []Requeued
	for rs.Next() {
		var (
			r     Requeued
			state string
		)
		if err := rs.Scan(&r.ID, &r.Gen, &r.Target, &state); err != nil {
			return nil, fmt.Errorf("store: take held deliveries: %w", err)
		}
		if hook.DeliveryState(state).Live() {
			out = append(out, r)
		}
	}
	return out, unavailable(rs.Err())
}

// Discard stops delivery id for good (until replayed).
func (db *DB) Discard(ctx context.Context, id int64) error {
	now := micros(time.Now())
	tx := db.conn()
	n, err := tx.exec(ctx, `UPDATE hookd_delivery SET state = 'discarded', gen = gen + 1, updated_at = ?, next_attempt_at = NULL,
		held_until = NULL WHERE id = ? AND state IN ('pending', 'retrying', 'dead')`, now, id)
	if err != nil {
		return fmt.Errorf("store: discard delivery %d: %w", id, err)
	}
	if n == 0 {
		return stateConflict(ctx, tx, id, "discard")
	}
	return nil
}

// stateConflict explains why op cannot apply to delivery id.
func stateConflict(ctx context.Context, tx Tx, id int64, op string) error {
	var state string
	err := tx.queryRow(ctx, `SELECT state FROM hookd_delivery WHERE id = ?`, id).Scan(&state)
	if err == hook.ErrNotFound {
		return fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("cannot %s delivery %d: it is %s: %w", op, id, state, hook.ErrConflict)
}

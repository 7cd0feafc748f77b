package store

import (
	"github.com/hookrt/hookd/hook"

	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const deliveryColumns = `id, event_id, target, state, attempts, created_at, updated_at, next_attempt_at, last_status, last_error, last_summary`

func scanDelivery(r row) (*hook.Delivery, error) {
	var (
		d                hook.Delivery
		state            string
		created, updated int64
		next             *int64
	)
	if err := r.Scan(&d.ID, &d.EventID, &d.Target, &state, &d.Attempts, &created, &updated, &next, &d.LastStatus, &d.LastError, &d.LastSummary); err != nil {
		return nil, err
	}
	d.State, d.CreatedAt, d.UpdatedAt = hook.DeliveryState(state), fromMicros(created), fromMicros(updated)
	if next != nil {
		t := fromMicros(*next)
		d.NextAttempt = &t
	}
	return &d, nil
}

// ListDeliveries returns deliveries matching f, newest first.
func (db *DB) ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	var (
		where []string
		args  []any
	)
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
		if f.State != hook.StateDelivered {
			where = append(where, notDelivered) // the state index's condition
		}
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.EventID != "" {
		where, args = append(where, "event_id = ?"), append(args, f.EventID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, micros(f.Since))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT ` + deliveryColumns + ` FROM hookd_delivery`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit)
	rs, err := db.conn().query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	defer rs.Close()
	out := []hook.Delivery{}
	for rs.Next() {
		d, err := scanDelivery(rs)
		if err != nil {
			return nil, fmt.Errorf("store: list deliveries: %w", err)
		}
		out = append(out, *d)
	}
	return out, unavailable(rs.Err())
}

// GetDelivery returns delivery id with its event and every attempt.
func (db *DB) GetDelivery(ctx context.Context, id int64) (*hook.Delivery, error) {
	c := db.conn()
	d, err := scanDelivery(c.queryRow(ctx, `SELECT `+deliveryColumns+` FROM hookd_delivery WHERE id = ?`, id))
	if err == hook.ErrNotFound {
		return nil, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get delivery %d: %w", id, err)
	}
	var fields string
	if err := c.queryRow(ctx, `SELECT fields FROM hookd_event WHERE id = ?`, d.EventID).Scan(&fields); err != nil {
		return nil, fmt.Errorf("store: get event %s: %w", d.EventID, err)
	}
	if err := json.Unmarshal([]byte(fields), &d.Event); err != nil {
		return nil, fmt.Errorf("store: decode event %s: %w", d.EventID, err)
	}
	rs, err := c.query(ctx, `SELECT n, at, latency_us, status, error, response, summary FROM hookd_attempt
		WHERE delivery_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("store: get attempts of %d: %w", id, err)
	}
	defer rs.Close()
	d.History = []hook.Attempt{}
	for rs.Next() {
		var (
			a       hook.Attempt
			at, lat int64
		)
		if err := rs.Scan(&a.N, &at, &lat, &a.Status, &a.Error, &a.Response, &a.Summary); err != nil {
			return nil, fmt.Errorf("store: get attempts of %d: %w", id, err)
		}
		a.At, a.Latency = fromMicros(at), time.Duration(lat)*time.Microsecond
		d.History = append(d.History, a)
	}
	return d, unavailable(rs.Err())
}

// ReleaseOrphanedJobs makes River jobs that a crashed process left
// "running" available again. Only for SQLite, where the file lock taken by
// OpenSQLite proves no other process is working them; on PostgreSQL,
// RescueStuckJobs does it for jobs running longer than any can.
func (db *DB) ReleaseOrphanedJobs(ctx context.Context) (int64, error) {
	if db.dialect != SQLite {
		return 0, nil
	}
	n, err := db.conn().exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec') WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("store: release orphaned jobs: %w", err)
	}
	return n, nil
}

// RescueStuckJobs makes hookd's River jobs that have been running since
// before cutoff available again, and returns how many. The caller picks a
// cutoff no live worker can reach (River cancels a job at its JobTimeout),
// so such a job belongs to a node that died: on PostgreSQL, where several
// nodes share the jobs, this is how survivors take over a dead node's
// work within seconds instead of River's rescuer's minutes.
func (db *DB) RescueStuckJobs(ctx context.Context, kinds []string, cutoff time.Time) (int64, error) {
	if db.dialect != Postgres || len(kinds) == 0 {
		return 0, nil
	}
	n, err := db.conn().exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND kind = ANY(?) AND attempted_at < ?`, kinds, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: rescue stuck jobs: %w", err)
	}
	return n, nil
}

// ReplayTargets returns the targets of the deliveries in state created at
// or after since: those a bulk replay of every target would touch, so that
// it can be refused before anything is requeued.
func (db *DB) ReplayTargets(ctx context.Context, state hook.DeliveryState, since time.Time) ([]string, error) {
	q := `SELECT DISTINCT target FROM hookd_delivery WHERE state = ? AND created_at >= ?`
	if state != hook.StateDelivered {
		q += ` AND ` + notDelivered // the state index's condition
	}
	rs, err := db.conn().query(ctx, q, string(state), micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: targets of %s deliveries: %w", state, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			return nil, fmt.Errorf("store: targets of %s deliveries: %w", state, err)
		}
		out = append(out, name)
	}
	return out, unavailable(rs.Err())
}

// DeliveryTarget returns the target of delivery id (an error matching
// hook.ErrNotFound when there is none).
func (db *DB) DeliveryTarget(ctx context.Context, id int64) (string, error) {
	var target string
	err := db.conn().queryRow(ctx, `SELECT target FROM hookd_delivery WHERE id = ?`, id).Scan(&target)
	if err == hook.ErrNotFound {
		return "", fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: get delivery %d: %w", id, err)
	}
	return target, nil
}

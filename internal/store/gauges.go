package store

import (
	"context"
	"fmt"
	"time"
)

// Gauges are the store's figures for metrics: cheap queries that use the
// state indexes (the live and dead deliveries, River's unfinished jobs),
// never a scan of the whole history.
type Gauges struct {
	Deliveries    map[string]int64 // pending, retrying, dead
	OldestPending time.Time        // zero when nothing is pending or retrying
	Jobs          map[string]int64 // River: available, scheduled, running, retryable
}

// Gauges reads the store's figures for metrics.
func (db *DB) Gauges(ctx context.Context) (Gauges, error) {
	g := Gauges{Deliveries: map[string]int64{"pending": 0, "retrying": 0, "dead": 0},
		Jobs: map[string]int64{"available": 0, "scheduled": 0, "running": 0, "retryable": 0}}
	c := db.conn()
	if err := countBy(ctx, c, `SELECT state, COUNT(*) FROM hookd_delivery
		WHERE state IN ('pending', 'retrying', 'dead') AND `+notDelivered+` GROUP BY state`, g.Deliveries); err != nil {
		return g, fmt.Errorf("store: count deliveries: %w", err)
	}
	var oldest *int64
	if err := c.queryRow(ctx, `SELECT MIN(created_at) FROM hookd_delivery WHERE state IN ('pending', 'retrying') AND `+notDelivered).Scan(&oldest); err != nil {
		return g, fmt.Errorf("store: oldest pending delivery: %w", err)
	}
	if oldest != nil {
		g.OldestPending = fromMicros(*oldest)
	}
	if err := countBy(ctx, c, `SELECT state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable') GROUP BY state`, g.Jobs); err != nil {
		return g, fmt.Errorf("store: count jobs: %w", err)
	}
	return g, nil
}

// countBy runs q, whose rows are (key, count), into into.
func countBy(ctx context.Context, c Tx, q string, into map[string]int64) error {
	rs, err := c.query(ctx, q)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var (
			k string
			n int64
		)
		if err := rs.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return unavailable(rs.Err())
}

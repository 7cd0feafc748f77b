package store

import (
	"context"
	"fmt"
	"time"
)

// Node heartbeats (hookd_node, migration 7): every node of a PostgreSQL
// store writes its id and the time once a second, and counts the nodes
// seen lately, so that a target's rate limit is divided between the nodes
// that share it (internal/engine/nodes.go). The time is the database's
// clock, not the node's: two nodes whose clocks disagree by seconds still
// count each other right. A node that stops says so ([DB.ForgetNode]); one
// that dies drops out of the count once its last beat is older than the
// window, and its row is deleted by a later beat of another node.

// nodeKeep is how long the row of a node that stopped beating is kept
// (for nothing but a look at the table); a beat deletes older ones.
const nodeKeep = time.Hour

// Heartbeat records that node is alive now and returns how many nodes
// (node included) beat within window.
func (db *DB) Heartbeat(ctx context.Context, node string, window time.Duration) (int, error) {
	var n int
	err := db.InTx(ctx, func(tx Tx) error {
		now, err := db.clockMicros(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO hookd_node (node, seen_at) VALUES (?, ?)
			ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at`, node, now); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM hookd_node WHERE seen_at < ?`, now-nodeKeep.Microseconds()); err != nil {
			return err
		}
		return tx.queryRow(ctx, `SELECT COUNT(*) FROM hookd_node WHERE seen_at >= ?`, now-window.Microseconds()).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: heartbeat of node %s: %w", node, unavailable(err))
	}
	return n, nil
}

// ForgetNode deletes node's heartbeat: a node that stops leaves the count
// at once instead of after the window, so the others take up its share of
// the rate limits sooner.
func (db *DB) ForgetNode(ctx context.Context, node string) error {
	if _, err := db.conn().exec(ctx, `DELETE FROM hookd_node WHERE node = ?`, node); err != nil {
		return fmt.Errorf("store: forget node %s: %w", node, unavailable(err))
	}
	return nil
}

// clockMicros is the database's clock in microseconds since the epoch (the
// process's on SQLite, where the database is in the process).
func (db *DB) clockMicros(ctx context.Context, tx Tx) (int64, error) {
	if db.dialect != Postgres {
		return micros(time.Now()), nil
	}
	var now int64
	err := tx.queryRow(ctx, `SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT`).Scan(&now)
	return now, err
}

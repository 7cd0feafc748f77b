package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Plugin logs (hookd_plugin_log, migration 6): what each node's plugins
// logged lately, per domain. Each node keeps a bounded ring per domain in
// memory and copies it here when it changed, replacing its previous copy,
// so the rows of one (node, domain) are bounded by the ring; the API reads
// every node's rows and merges them by time. Rows of nodes that are gone
// (a restart is a new node) are pruned by age ([DB.PrunePluginLogs]).

// ReplacePluginLog replaces node's copy of domain's log lines with lines
// (oldest first).
func (db *DB) ReplacePluginLog(ctx context.Context, node, domain string, lines []hook.PluginLogLine) error {
	return db.InTx(ctx, func(tx Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM hookd_plugin_log WHERE node = ? AND domain = ?`, node, domain); err != nil {
			return fmt.Errorf("store: plugin log: %w", err)
		}
		for i, l := range lines {
			if _, err := tx.exec(ctx, `INSERT INTO hookd_plugin_log (node, domain, seq, at, event_id, level, line) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				node, domain, i, micros(l.At), l.EventID, l.Level, l.Line); err != nil {
				return fmt.Errorf("store: plugin log: %w", err)
			}
		}
		return nil
	})
}

// PluginLog returns domain's newest log lines of every node, at most
// limit (1 to 10000; other values mean 200), oldest first.
func (db *DB) PluginLog(ctx context.Context, domain string, limit int) ([]hook.PluginLogLine, error) {
	if limit <= 0 || limit > 10000 {
		limit = 200
	}
	rs, err := db.conn().query(ctx, `SELECT node, at, event_id, level, line FROM hookd_plugin_log
		WHERE domain = ? ORDER BY at DESC, node DESC, seq DESC LIMIT ?`, domain, limit)
	if err != nil {
		return nil, fmt.Errorf("store: plugin log: %w", err)
	}
	defer rs.Close()
	var out []hook.PluginLogLine
	for rs.Next() {
		l := hook.PluginLogLine{Domain: domain}
		var at int64
		if err := rs.Scan(&l.Node, &at, &l.EventID, &l.Level, &l.Line); err != nil {
			return nil, fmt.Errorf("store: plugin log: %w", err)
		}
		l.At = fromMicros(at)
		out = append(out, l)
	}
	if err := unavailable(rs.Err()); err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PrunePluginLogs deletes log lines written before cutoff (those of
// nodes that stopped: a live node's copy is rewritten as it logs).
func (db *DB) PrunePluginLogs(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := db.conn().exec(ctx, `DELETE FROM hookd_plugin_log WHERE at < ?`, micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: prune plugin logs: %w", err)
	}
	return n, nil
}

// TargetEvents returns the fields of the newest events delivered (or
// to be delivered) to target, at most limit, newest first: what a dry run
// replays.
func (db *DB) TargetEvents(ctx context.Context, target string, limit int) ([]map[string]string, error) {
	rs, err := db.conn().query(ctx, `SELECT e.fields FROM hookd_delivery d JOIN hookd_event e ON e.id = d.event_id
		WHERE d.target = ? ORDER BY d.id DESC LIMIT ?`, target, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", target, err)
	}
	defer rs.Close()
	var out []map[string]string
	for rs.Next() {
		var raw string
		if err := rs.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: events of %s: %w", target, err)
		}
		var f map[string]string
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return nil, fmt.Errorf("store: events of %s: %w", target, err)
		}
		out = append(out, f)
	}
	return out, unavailable(rs.Err())
}

// TargetCounts returns target's deliveries by state.
func (db *DB) TargetCounts(ctx context.Context, target string) (map[string]int, error) {
	rs, err := db.conn().query(ctx, `SELECT state, COUNT(*) FROM hookd_delivery WHERE target = ? GROUP BY state`, target)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s: %w", target, err)
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var (
			state string
			n     int
		)
		if err := rs.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: deliveries of %s: %w", target, err)
		}
		out[state] = n
	}
	return out, unavailable(rs.Err())
}

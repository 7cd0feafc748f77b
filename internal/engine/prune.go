package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookrt/hookd/internal/store"
)

// pruneArgs is the periodic job that deletes old history
// (RetentionOptions). River's leader inserts it, so one node prunes.
type pruneArgs struct{}

// Kind is stable: it is stored with every job.
func (pruneArgs) Kind() string { return "hookd_prune" }

// pruneBatch is how many events one pruning transaction deletes: small
// enough that the writes of deliveries are held up for milliseconds only.
const pruneBatch = 500

// pruneWorker deletes the history the retention settings let go, in
// batches, then the expired idempotency keys and plugin state, and
// truncates SQLite's write-ahead log. A delivery that is pending or retrying is never pruned,
// nor its event.
type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	e *Engine
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	e := w.e
	_, err := e.Prune(ctx, time.Now())
	return err
}

// SetRetention replaces the retention settings (for tests that prune by
// hand; Open takes them from its options).
func (e *Engine) SetRetention(r RetentionOptions) { e.retention = r }

// Prune deletes what the retention settings let go as of now, and the
// plugin state expired by then, and returns how many events it deleted.
// The periodic job calls it.
func (e *Engine) Prune(ctx context.Context, now time.Time) (int, error) {
	r := e.retention
	var cut store.Retention
	if r.Keep > 0 {
		cut.Kept = now.Add(-r.Keep)
	}
	if r.Dead > 0 {
		cut.Dead = now.Add(-r.Dead)
	}
	start := time.Now()
	total := 0
	var after store.Cursor
	for {
		n, next, err := e.db.PruneBatch(ctx, cut, after, pruneBatch)
		total += n
		if err != nil {
			return total, err
		}
		if next == (store.Cursor{}) {
			break
		}
		after = next
	}
	keys := int64(0)
	if r.Idempotency > 0 {
		var err error
		if keys, err = e.db.PruneIdempotency(ctx, now.Add(-r.Idempotency)); err != nil {
			return total, err
		}
	}
	states, err := e.db.PruneState(ctx, now, pruneBatch)
	if err != nil {
		return total, err
	}
	if total > 0 || keys > 0 || states > 0 {
		if err := e.db.Checkpoint(ctx); err != nil {
			e.log.WarnContext(ctx, "pruned but could not truncate the write-ahead log", slog.Any("error", err))
		}
		e.log.InfoContext(ctx, "pruned delivery history", slog.Int("events", total), slog.Int64("idempotency_keys", keys),
			slog.Int64("plugin_state_keys", states), slog.Duration("took", time.Since(start)))
	}
	return total, nil
}

package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// The bounds of SQLite's write-ahead log. Every commit is appended to the
// WAL and copied into the database file by a checkpoint; until then the
// disk holds both. hookd once checkpointed only at ~32 MB of WAL, so a
// 16 MB volume filled before the first checkpoint, and after a few MB
// were freed the WAL took them again within a second: ingest never
// recovered. Now the WAL is checkpointed by size (walAutoCheckpoint pages,
// at each commit that passes it), by time (walCheckpointEvery, truncating
// it to nothing), and at once after a write that failed, then every
// walRetryEvery until a checkpoint succeeds; journal_size_limit truncates
// what a checkpoint leaves.
const (
	walAutoCheckpoint  = 1000    // pages: ~4 MiB at SQLite's 4 KiB page
	walSizeLimit       = 4 << 20 // bytes the WAL file keeps after a checkpoint
	walCheckpointEvery = 2 * time.Second
	walRetryEvery      = 250 * time.Millisecond
	walCheckpointLimit = 5 * time.Second // one checkpoint's deadline
)

// checkpointer truncates a SQLite store's WAL in the background.
type checkpointer struct {
	db     *DB
	wal    string        // the WAL file's path
	every  time.Duration // the checkpoint by time
	retry  time.Duration // the retries after a failed write
	failed chan struct{} // a write failed: checkpoint now (capacity 1)
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// startCheckpointer starts db's checkpointer, checkpointing every every
// (when the WAL file at path wal is not empty) and, after a failed write,
// every retry until a checkpoint succeeds.
func startCheckpointer(db *DB, wal string, every, retry time.Duration) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, wal: wal, every: every, retry: retry, failed: make(chan struct{}, 1), stop: cancel}
	c.done.Go(func() { c.run(ctx) })
	return c
}

// close stops the checkpointer and waits for it.
func (c *checkpointer) close() {
	c.stop()
	c.done.Wait()
}

// writeFailed tells the checkpointer a write failed with err; when err
// says the disk is full (or a write to it failed), it checkpoints at once
// and keeps trying until it succeeds, so that the space the WAL holds is
// given back as soon as the disk has room for the database to grow.
func (c *checkpointer) writeFailed(err error) {
	if c == nil || !diskFull(err) {
		return
	}
	select {
	case c.failed <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	tick := time.NewTimer(c.every)
	defer tick.Stop()
	retrying := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.failed:
			retrying = true
		case <-tick.C:
		}
		if !retrying && c.walEmpty() {
			tick.Reset(c.every) // idle: nothing to checkpoint, leave the connection be
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, walCheckpointLimit)
		err := c.db.Checkpoint(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		// After a failed write, and after a checkpoint that failed for a
		// full disk, retry quickly until one succeeds; a tick's checkpoint
		// that failed for another reason (the connection held by an
		// embedder's transaction past walCheckpointLimit) waits for the
		// next tick.
		retrying = retrying && err != nil
		if retrying || diskFull(err) {
			retrying = true
			tick.Reset(c.retry)
		} else {
			tick.Reset(c.every)
		}
	}
}

// walEmpty reports whether the store's WAL file is empty or absent (an
// error to stat it counts as not empty: the checkpoint will say more).
func (c *checkpointer) walEmpty() bool {
	if c.wal == "" {
		return false
	}
	fi, err := os.Stat(c.wal)
	return errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0)
}

// diskFull reports whether err is SQLite's "database or disk is full" or
// a failed write to the disk (SQLITE_FULL, SQLITE_IOERR and its extended
// codes).
func diskFull(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	const sqliteIOErr, sqliteFull = 10, 13
	switch se.Code() & 0xff {
	case sqliteIOErr, sqliteFull:
		return true
	}
	return false
}

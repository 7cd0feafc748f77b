package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// TestCheckpointAfterFailedWrite: a write that fails because the database
// is full makes the checkpointer truncate the WAL at once, not at its next
// tick (an hour away here). SQLite's max_page_count stands in for a full
// disk: it fails the write with the same SQLITE_FULL.
func TestCheckpointAfterFailedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db, err := OpenSQLite(ctx, path, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.ckpt.close()
	db.ckpt = startCheckpointer(db, path+"-wal", time.Hour, 10*time.Millisecond)

	if _, err := db.sqldb.ExecContext(ctx, `CREATE TABLE t (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	insert := func() error {
		return db.InTx(ctx, func(tx Tx) error {
			_, err := tx.exec(ctx, `INSERT INTO t (b) VALUES (randomblob(8000))`)
			return err
		})
	}
	for range 20 {
		if err := insert(); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	if err := db.sqldb.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sqldb.ExecContext(ctx, `PRAGMA max_page_count = `+itoa(pages+20)); err != nil {
		t.Fatal(err)
	}
	if size(path+"-wal") == 0 {
		t.Fatal("the test needs a WAL with something in it")
	}
	var full error
	for range 100 {
		if full = insert(); full != nil {
			break
		}
	}
	if !diskFull(full) || !errors.Is(full, hook.ErrUnavailable) {
		t.Fatalf("writing past max_page_count: %v; want SQLITE_FULL marked unavailable", full)
	}
	deadline := time.Now().Add(time.Minute)
	for size(path+"-wal") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a minute after a failed write the WAL is still %d bytes", size(path+"-wal"))
		}
		time.Sleep(10 * time.Millisecond) // polling a file's size: nothing to wait on
	}
}

// TestCheckpointByTime: an idle store's WAL is truncated by the
// checkpointer's tick.
func TestCheckpointByTime(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	db, err := OpenSQLite(ctx, path, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.ckpt.close()
	db.ckpt = startCheckpointer(db, path+"-wal", 20*time.Millisecond, time.Hour)
	if _, err := db.sqldb.ExecContext(ctx, `CREATE TABLE t (b BLOB); INSERT INTO t VALUES (randomblob(100000))`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for size(path+"-wal") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a minute on, the idle store's WAL is still %d bytes", size(path+"-wal"))
		}
		time.Sleep(10 * time.Millisecond) // polling a file's size: nothing to wait on
	}
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func itoa(n int) string { return fmt.Sprint(n) }

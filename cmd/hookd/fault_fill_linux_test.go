package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	hookrt "github.com/hookrt/hookd/runtime"
)

// mountSmallVolume mounts a tmpfs of size bytes at a fresh directory and
// unmounts it when t ends; it skips t, saying why, where that cannot be
// done (not root, or no mount permission, as in most containers).
func mountSmallVolume(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a size-limited file system needs a tmpfs mount, which needs root; run as root to test a full disk")
	}
	dir, err := os.MkdirTemp("", "hookd-small-volume-")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		os.Remove(dir)
		t.Skipf("cannot mount a %d-byte tmpfs to test a full disk (%v); the test needs root with CAP_SYS_ADMIN", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	return dir
}

// fileSize is the size of path, 0 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestFaultSmallVolume: hookd on a SQLite file on a 16 MiB volume. Events
// are emitted until the disk is full; the write-ahead log must not be what
// filled it (it is checkpointed by size and time, and truncated after a
// failed write). Once space is freed, ingest resumes within seconds and
// goes on. Before, the WAL was checkpointed only at ~32 MB, so it filled
// the volume before its first checkpoint, and freeing a few MB gave about
// a second of ingest before it filled again.
func TestFaultSmallVolume(t *testing.T) {
	const volume = 16 << 20
	dir := mountSmallVolume(t, volume)
	// Something else on the volume, which the operator deletes to make room.
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hookd.db")
	cfg := hookrt.DefaultConfig()
	cfg.Store = hookrt.StoreConfig{Driver: "sqlite", Path: path}
	ctx := context.Background()
	rt, err := hookrt.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	})

	payload := strings.Repeat("x", 2000)
	n := 0
	batch := func() error {
		events := make([]map[string]string, 50)
		for i := range events {
			n++
			events[i] = map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": fmt.Sprint("user", n), "DATA": payload}
		}
		ectx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := rt.EmitMany(ectx, events)
		return err
	}

	// Fill the volume.
	var full error
	for written := 0; full == nil; written++ {
		if written > 20000 {
			t.Fatal("the volume never filled")
		}
		full = batch()
	}
	if !errors.Is(full, hook.ErrUnavailable) {
		t.Fatalf("a full disk: %v, want an error matching hook.ErrUnavailable", full)
	}
	wal, db := fileSize(path+"-wal"), fileSize(path)
	t.Logf("full after %d events: database %d bytes, WAL %d bytes: %v", n, db, wal, full)
	if wal > 8<<20 {
		t.Errorf("the WAL filled the disk: %d bytes beside a %d-byte database; it must be checkpointed long before", wal, db)
	}

	// Free space; ingest resumes, and goes on.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	deadline := time.Now().Add(time.Minute)
	for {
		err := batch()
		if err == nil {
			break
		}
		if !errors.Is(err, hook.ErrUnavailable) {
			t.Fatalf("after space was freed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not resume within a minute of freeing 4 MiB: %v", err)
		}
	}
	t.Logf("ingest resumed %v after space was freed", time.Since(freed).Round(time.Millisecond))
	// 400 more events (~1.7 MiB in the database): well within the 4 MiB
	// freed, unless the WAL takes it again.
	for range 8 {
		if err := batch(); err != nil {
			t.Fatalf("ingest stopped again after space was freed (database %d bytes, WAL %d bytes): %v",
				fileSize(path), fileSize(path+"-wal"), err)
		}
	}
	// Idle, the WAL is checkpointed by time and truncated to nothing.
	deadline = time.Now().Add(time.Minute)
	for fileSize(path+"-wal") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL of an idle store is still %d bytes after a minute", fileSize(path+"-wal"))
		}
		time.Sleep(50 * time.Millisecond) // polling a file's size: nothing to wait on
	}
}

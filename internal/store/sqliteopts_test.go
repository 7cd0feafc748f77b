package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteMemoryPragmas: the page cache and the memory map are what
// SQLiteOptions say, and by default small (4 MiB of cache, no map), so
// that a long-running node's RSS does not grow with the file it reads
// (issue 19: 256 MiB of map and 64 MiB of cache took a node at 200
// events/s from 32 to 163 MB).
func TestSQLiteMemoryPragmas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		o           SQLiteOptions
		cache, mmap int64 // what PRAGMA answers: cache_size in -KiB, mmap_size in bytes
	}{
		{"defaults", SQLiteOptions{}, -4096, 0},
		{"set", SQLiteOptions{CacheSize: 2 << 20, MmapSize: 64 << 20}, -2048, 64 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "hookd.db"), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var cache, mmap int64
			if err := db.sqldb.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
				t.Fatal(err)
			}
			if err := db.sqldb.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
				t.Fatal(err)
			}
			if cache != tc.cache || mmap != tc.mmap {
				t.Errorf("cache_size %d, mmap_size %d; want %d, %d", cache, mmap, tc.cache, tc.mmap)
			}
		})
	}
}

// TestSQLiteMemoryOptionsRejected: out-of-range sizes are refused with an
// error naming the option and what is allowed, and the file's lock is
// released (a second open with good options succeeds).
func TestSQLiteMemoryOptionsRejected(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	for _, tc := range []struct {
		o    SQLiteOptions
		want string
	}{
		{SQLiteOptions{CacheSize: 1024}, "cache_size must be between 262144 (256 KiB) and 17179869184 (16 GiB) bytes, got 1024"},
		{SQLiteOptions{MmapSize: -1}, "mmap_size must be between 0 (no memory map) and 1099511627776 (1 TiB) bytes, got -1"},
	} {
		db, err := OpenSQLite(ctx, path, tc.o)
		if err == nil {
			db.Close()
			t.Fatalf("%+v: opened", tc.o)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	db, err := OpenSQLite(ctx, path, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

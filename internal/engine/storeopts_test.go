package engine_test

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/storetest"
)

// TestStoreMemoryOptions: [store] cache_size and mmap_size reach the
// SQLite connection the engine opens (they were once accepted by the
// config and dropped on the way).
func TestStoreMemoryOptions(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Options{Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path,
		CacheSize: 2 << 20, MmapSize: 64 << 20}, Delivery: fast()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	var cache, mmap int64
	if err := e.DB().SQL().QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if err := e.DB().SQL().QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
		t.Fatal(err)
	}
	if cache != -2048 || mmap != 64<<20 {
		t.Errorf("cache_size %d (KiB when negative), mmap_size %d; want -2048, %d", cache, mmap, 64<<20)
	}
}

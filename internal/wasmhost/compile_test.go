package wasmhost

import (
	"context"
	"sync"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
)

// TestConcurrentLoadsFromTheFileCache: plugins of one binary loaded at
// the same time, from a compilation cache another engine filled (a
// restart), all start and answer. Without the per-binary compile lock,
// wazero can hand the second of two concurrent compilations a module
// whose entry preambles are not compiled yet (wazero/wazero#2547): a
// panic in instantiation, or a data race under -race.
func TestConcurrentLoadsFromTheFileCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	if err := cacheEngine(t, dir).Compile(ctx, fixture("echo")); err != nil {
		t.Fatal(err)
	}
	for round := range 4 {
		e := cacheEngine(t, dir)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				p, err := e.Load(ctx, fixture("echo"), Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{})
				if err != nil {
					t.Errorf("round %d, load %d: %v", round, i, err)
					return
				}
				defer p.Close(ctx)
				if out, err := p.Call(ctx, event("5a1d")); err != nil || len(out.Reply) == 0 {
					t.Errorf("round %d, call %d: %q %v", round, i, out.Reply, err)
				}
			})
		}
		wg.Wait()
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

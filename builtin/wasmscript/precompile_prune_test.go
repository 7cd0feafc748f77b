package wasmscript_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// TestStoredModulesPruned: module files (and compiled code) of binaries no
// stored version keeps are removed once unused for wasmhost.UnusedAge, by
// a host sharing the cache directory; a module loaded again since (its
// file touched) stays, a dry run's candidate leaves nothing behind once
// old, and a pruned module that is needed again is written again from its
// bytes and loads. Ages are set on the files, not waited for.
func TestStoredModulesPruned(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	host := func() *wasmscript.Host {
		h, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{CacheDir: dir, PrivateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		return h
	}
	module := func(name string) ([]byte, string) {
		b := readFixture(t, name)
		sum := sha256.Sum256(b)
		return b, hex.EncodeToString(sum[:])
	}
	a, b := host(), host()
	used, usedSHA := module("echo") // compiled ahead, then loaded again: in use
	gone, goneSHA := module("ok")   // compiled ahead, then its version deleted
	for _, m := range [][]byte{used, gone} {
		if err := a.Precompile(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	cand, candSHA := module("fail") // a dry run's candidate, never stored
	spec := wasmscript.Spec{Domain: "5", Module: cand, Settings: wasmscript.Settings{Timeout: testTimeout}}
	if _, err := a.DryRun(ctx, spec, []*hook.Event{event("a")}, nil, false); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * wasmhost.UnusedAge)
	for _, sha := range []string{usedSHA, goneSHA, candSHA} {
		for _, p := range []string{filepath.Join(dir, "modules", sha+".wasm"), filepath.Join(dir, sha, "lock")} {
			if err := os.Chtimes(p, old, old); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
	if err := a.Precompile(ctx, used, usedSHA); err != nil { // used again: touched
		t.Fatal(err)
	}

	// a prunes its entries in the background too (the Precompile above
	// released one), and a prune skips an entry another prune holds: b
	// prunes until nothing is busy, as the runtime's scan retries, and the
	// directories are looked at, whichever prune removed them.
	var removed []string
	noEntry := func(sha string) bool { _, err := os.Stat(filepath.Join(dir, sha)); return os.IsNotExist(err) }
	for deadline := time.Now().Add(hooktest.Patience); ; {
		rep, err := b.PruneModules(ctx, func(string) bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		removed = append(removed, rep.Modules...)
		if (len(rep.Busy) == 0 && noEntry(goneSHA) && noEntry(candSHA)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // a's prune holds an entry: look again
	}
	if !slices.Equal(removed, []string{goneSHA}) {
		t.Errorf("modules removed %v, want only the deleted version's %s", removed, goneSHA)
	}
	for _, sha := range []string{goneSHA, candSHA} {
		if !noEntry(sha) {
			t.Errorf("compiled code of %s (the deleted version's, the dry run candidate's) still there", sha)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "modules", usedSHA+".wasm")); err != nil || !a.Compiled(usedSHA) {
		t.Errorf("the module used again: %v, compiled %v", err, a.Compiled(usedSHA))
	}
	if a.Compiled(goneSHA) {
		t.Error("the deleted version's compiled code is still there")
	}

	// Needed again (pushed again, or another node's store has it): its
	// bytes are written again and it loads.
	s, err := a.Load(ctx, wasmscript.Spec{Domain: "5", Module: gone, SHA256: goneSHA, Settings: wasmscript.Settings{Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Unload(ctx, s) }()
	if got, err := os.ReadFile(filepath.Join(dir, "modules", goneSHA+".wasm")); err != nil || !slices.Equal(got, gone) {
		t.Errorf("the pruned module, loaded again, is not back in its file: %v", err)
	}
	// Now it runs here: no pruner removes it, whatever its age.
	if err := os.Chtimes(filepath.Join(dir, "modules", goneSHA+".wasm"), old, old); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.PruneModules(ctx, func(string) bool { return false }); err != nil || slices.Contains(rep.Modules, goneSHA) || !slices.Contains(rep.Busy, goneSHA) {
		t.Errorf("a running module: %+v, %v; want it busy, not removed", rep, err)
	}
}

package wasmhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
)

// shaOf is the hex SHA-256 of a fixture's binary.
func shaOf(t testing.TB, name string) string {
	t.Helper()
	sum := sha256.Sum256(mustRead(t, fixture(name)))
	return hex.EncodeToString(sum[:])
}

func cacheEngine(t testing.TB, dir string) *Engine {
	t.Helper()
	e, err := NewEngine(context.Background(), Options{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// entryNames lists the cache entries (SHA-256 directories) in dir.
func entryNames(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if isEntryName(de.Name()) {
			out = append(out, de.Name())
		}
	}
	slices.Sort(out)
	return out
}

// TestCacheEntryPerBinary: each binary gets an entry named by its
// SHA-256, with wazero's compiled code, a lock and the paths that used it;
// a second engine (a restart) finds the code compiled.
func TestCacheEntryPerBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := cacheEngine(t, dir)
	load(t, e, "ok", Limits{Instances: 1}, hostfn.Grants{})
	load(t, e, "echo", Limits{Instances: 1}, hostfn.Grants{})
	load(t, e, "ok", Limits{Instances: 1}, hostfn.Grants{}) // the same binary: the same entry
	want := []string{shaOf(t, "ok"), shaOf(t, "echo")}
	slices.Sort(want)
	if got := entryNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	ok := filepath.Join(dir, shaOf(t, "ok"))
	code, _ := filepath.Glob(filepath.Join(ok, "wazero-*", "*"))
	if len(code) != 1 {
		t.Errorf("compiled code files %v", code)
	}
	if src := readSources(filepath.Join(ok, "source")); !slices.Equal(src, []string{fixture("ok")}) {
		t.Errorf("source %v", src)
	}
	e2 := cacheEngine(t, dir)
	load(t, e2, "ok", Limits{Instances: 1}, hostfn.Grants{})
	if again, _ := filepath.Glob(filepath.Join(ok, "wazero-*", "*")); !slices.Equal(again, code) {
		t.Errorf("a second engine compiled again: %v", again)
	}
}

// TestPruneRule: Prune keeps every entry in use (by this engine or another
// process: another engine's lock stands for it) and the last 3 versions of
// each plugin path, removes older versions and old orphans, and leaves
// what is not an entry alone.
func TestPruneRule(t *testing.T) {
	t.Parallel()
	if !canLock {
		t.Skip("no flock: Prune removes nothing")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(t.TempDir(), "p.wasm")
	versions := []string{"ok", "echo", "fail", "fatal", "flaky"}

	// Another process still runs the oldest version. Neither engine prunes
	// by itself here (a reload or a close asks for one in the background):
	// the test sets the ages first and then calls Prune.
	other := cacheEngine(t, dir)
	other.manualPrune = true
	copyFile(t, versions[0], path)
	if _, err := other.Load(ctx, path, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{}); err != nil {
		t.Fatal(err)
	}
	e := cacheEngine(t, dir)
	e.manualPrune = true
	p, err := e.Load(ctx, path, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	for _, v := range versions[1:] {
		copyFile(t, v, path)
		if swapped, err := p.Reload(ctx); !swapped || err != nil {
			t.Fatalf("reload to %s: %v %v", v, swapped, err)
		}
	}
	p.old.Wait() // the old versions have released their entries
	// Ages in version order (a reload may take less than the clock's step).
	base := time.Now().Add(-time.Hour)
	for i, v := range versions {
		at := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(dir, shaOf(t, v), "lock"), at, at); err != nil {
			t.Fatal(err)
		}
	}
	// An orphan (no source) two days old, a fresh one, and things that are
	// not entries.
	oldOrphan, newOrphan := filepath.Join(dir, hex.EncodeToString(make([]byte, 32))), filepath.Join(dir, shaOf(t, "trap"))
	for _, d := range []string{oldOrphan, newOrphan, filepath.Join(dir, "wazero-v1.0.0-amd64-linux"), filepath.Join(dir, "NOTES")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	twoDays := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(oldOrphan, twoDays, twoDays); err != nil {
		t.Fatal(err)
	}

	removed, err := e.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Kept: flaky (running), fatal and fail (the last 3 with flaky), ok
	// (the other process runs it), the fresh orphan. Removed: echo, the old
	// orphan.
	want := []string{shaOf(t, "echo"), filepath.Base(oldOrphan)}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	kept := []string{shaOf(t, "ok"), shaOf(t, "fail"), shaOf(t, "fatal"), shaOf(t, "flaky"), shaOf(t, "trap")}
	slices.Sort(kept)
	if got := entryNames(t, dir); !slices.Equal(got, kept) {
		t.Errorf("entries left %v, want %v", got, kept)
	}
	for _, d := range []string{"wazero-v1.0.0-amd64-linux", "NOTES"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err != nil {
			t.Errorf("%s, not an entry, was touched: %v", d, err)
		}
	}

	// Once the other process is gone, its old version goes too; and a
	// version pruned comes back when loaded again.
	if err := other.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if removed, err := e.Prune(ctx); err != nil || !slices.Equal(removed, []string{shaOf(t, "ok")}) {
		t.Errorf("second prune removed %v, %v; want ok's entry", removed, err)
	}
	copyFile(t, "echo", path)
	if swapped, err := p.Reload(ctx); !swapped || err != nil {
		t.Fatalf("reload to a pruned version: %v %v", swapped, err)
	}
	if out, err := p.Call(ctx, event("5a1d")); err != nil || len(out.Reply) == 0 {
		t.Errorf("the pruned version, loaded again: %q %v", out.Reply, err)
	}
}

// TestPruneWithoutCacheDir: nothing to prune in memory.
func TestPruneWithoutCacheDir(t *testing.T) {
	t.Parallel()
	if removed, err := newEngine(t).Prune(context.Background()); removed != nil || err != nil {
		t.Errorf("Prune = %v, %v", removed, err)
	}
}

// TestCompileFillsTheCache: Compile leaves an entry a later Load uses.
func TestCompileFillsTheCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := cacheEngine(t, dir).Compile(context.Background(), fixture("echo")); err != nil {
		t.Fatal(err)
	}
	code, _ := filepath.Glob(filepath.Join(dir, shaOf(t, "echo"), "wazero-*", "*"))
	if len(code) != 1 {
		t.Fatalf("compiled files %v", code)
	}
	load(t, cacheEngine(t, dir), "echo", Limits{Instances: 1}, hostfn.Grants{})
	if again, _ := filepath.Glob(filepath.Join(dir, "*", "wazero-*", "*")); len(again) != 1 {
		t.Errorf("files after Load: %v", again)
	}
	notWasm := filepath.Join(t.TempDir(), "x.wasm")
	writeFile(t, notWasm, []byte("not wasm"))
	if err := cacheEngine(t, dir).Compile(context.Background(), notWasm); err == nil {
		t.Error("Compile of a file that is not WebAssembly succeeded")
	}
}

package wasmhost

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
)

// moduleFixture writes fixture name's binary as the module file of its
// SHA-256 in e's cache directory, as builtin/wasmscript does for a stored
// plugin version, and returns its path and SHA-256.
func moduleFixture(t *testing.T, e *Engine, name string) (string, string) {
	t.Helper()
	sha := shaOf(t, name)
	path := e.ModuleFile(sha)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, name, path)
	return path, sha
}

// age sets the mtime of each path (that exists) to 2 UnusedAges ago: the
// age is injected through the files themselves, no clock is waited for.
func age(t *testing.T, paths ...string) {
	t.Helper()
	at := time.Now().Add(-2 * UnusedAge)
	for _, p := range paths {
		if err := os.Chtimes(p, at, at); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestPruneModules: the module files of binaries the caller does not
// keep, unused for UnusedAge, go with their compilation cache entries;
// kept, fresh and in-use ones stay (another engine, standing for another
// process, runs one), and go once that process is gone. An entry whose
// every source is gone (a dry run's candidate written to a temporary
// directory) goes once old, though the keepVersions rule would keep it.
func TestPruneModules(t *testing.T) {
	t.Parallel()
	if !canLock {
		t.Skip("no flock: PruneModules removes nothing")
	}
	ctx := context.Background()
	dir := t.TempDir()
	e := cacheEngine(t, dir)
	e.manualPrune = true
	other := cacheEngine(t, dir)
	other.manualPrune = true

	deleted, deletedSHA := moduleFixture(t, e, "echo") // a deleted version, compiled ahead
	if err := e.Compile(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	running, runningSHA := moduleFixture(t, e, "ok") // deleted here, still run by another process
	if _, err := other.Load(ctx, running, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{}); err != nil {
		t.Fatal(err)
	}
	stored, storedSHA := moduleFixture(t, e, "fail")    // a stored version
	fresh, _ := moduleFixture(t, e, "fatal")            // written just now, not (yet) stored
	never, neverSHA := moduleFixture(t, e, "flaky")     // never compiled: no entry
	dry := filepath.Join(t.TempDir(), "candidate.wasm") // a dry run's candidate, in its own temporary directory
	copyFile(t, "trap", dry)
	if err := e.Compile(ctx, dry); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(dry)); err != nil {
		t.Fatal(err)
	}
	dryEntry := filepath.Join(dir, shaOf(t, "trap"))
	oldTmp, newTmp, notes := filepath.Join(e.ModuleDir(), ".tmp-0123456789ab-1"), filepath.Join(e.ModuleDir(), ".tmp-0123456789ab-2"), filepath.Join(e.ModuleDir(), "NOTES")
	for _, p := range []string{oldTmp, newTmp, notes} {
		writeFile(t, p, []byte("x"))
	}
	age(t, deleted, running, stored, never, oldTmp, notes,
		filepath.Join(dir, deletedSHA, "lock"), filepath.Join(dir, runningSHA, "lock"), filepath.Join(dryEntry, "lock"))

	keep := func(sha string) bool { return sha == storedSHA }
	rep, err := e.PruneModules(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	wantModules := []string{deletedSHA, neverSHA}
	slices.Sort(wantModules)
	if !slices.Equal(rep.Modules, wantModules) {
		t.Errorf("modules removed %v, want %v", rep.Modules, wantModules)
	}
	wantEntries := []string{deletedSHA, shaOf(t, "trap")}
	slices.Sort(wantEntries)
	slices.Sort(rep.Entries)
	if !slices.Equal(rep.Entries, wantEntries) {
		t.Errorf("entries removed %v, want %v (the deleted version's, the dry run's)", rep.Entries, wantEntries)
	}
	if !slices.Equal(rep.Busy, []string{runningSHA}) {
		t.Errorf("busy %v, want the running one", rep.Busy)
	}
	for _, p := range []string{deleted, never, oldTmp, filepath.Join(dir, deletedSHA), dryEntry, filepath.Join(dir, neverSHA)} {
		if exists(p) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range []string{running, stored, fresh, newTmp, notes, filepath.Join(dir, runningSHA)} {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}

	// The other process is gone: the module it ran goes now, entry and all.
	if err := other.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err = e.PruneModules(ctx, keep)
	if err != nil || !slices.Equal(rep.Modules, []string{runningSHA}) || !slices.Contains(rep.Entries, runningSHA) {
		t.Errorf("second prune: %+v, %v; want the module and entry once run by the other process", rep, err)
	}
	if exists(running) || exists(filepath.Join(dir, runningSHA)) {
		t.Error("the module no process runs any more, or its entry, is still there")
	}
}

// TestReserveHoldsOffPruner: a process that reserved a binary's entry
// (about to write or load its module file) keeps the file from every
// pruner, whatever its age; and a file touched since it was listed (read
// again under the lock) stays too.
func TestReserveHoldsOffPruner(t *testing.T) {
	t.Parallel()
	if !canLock {
		t.Skip("no flock")
	}
	ctx := context.Background()
	dir := t.TempDir()
	loader, pruner := cacheEngine(t, dir), cacheEngine(t, dir)
	loader.manualPrune, pruner.manualPrune = true, true
	path, sha := moduleFixture(t, loader, "echo")
	age(t, path)
	if err := loader.Reserve(sha); err != nil {
		t.Fatal(err)
	}
	rep, err := pruner.PruneModules(ctx, func(string) bool { return false })
	if err != nil || len(rep.Modules) != 0 || !slices.Equal(rep.Busy, []string{sha}) || !exists(path) {
		t.Fatalf("prune of a reserved module: %+v, %v; exists %v", rep, err, exists(path))
	}

	// Listed as old, touched before the pruner locked it: kept.
	path2, sha2 := moduleFixture(t, loader, "ok")
	age(t, path2)
	listed := time.Now()
	now := listed.Add(time.Second)
	if err := os.Chtimes(path2, now, now); err != nil {
		t.Fatal(err)
	}
	pruner.pruning.Lock()
	removed, _, err := pruner.removeModule(sha2, listed)
	pruner.pruning.Unlock()
	if err != nil || removed || !exists(path2) {
		t.Fatalf("a module touched after it was listed: removed %v, %v", removed, err)
	}
	if exists(filepath.Join(dir, sha2)) {
		t.Error("the entry made only to lock the module is left behind")
	}
}

// TestPruneGoneSources: Prune removes an entry whose every source path is
// gone once it is older than UnusedAge (a dry run's candidate, written to
// a temporary directory removed after the run; a plugin file taken out of
// the configuration), though it is its path's only version; a fresh one,
// or one with a source still there, stays.
func TestPruneGoneSources(t *testing.T) {
	t.Parallel()
	if !canLock {
		t.Skip("no flock")
	}
	ctx := context.Background()
	dir := t.TempDir()
	e := cacheEngine(t, dir)
	e.manualPrune = true
	compileAt := func(name string, remove bool) string {
		p := filepath.Join(t.TempDir(), name+".wasm")
		copyFile(t, name, p)
		if err := e.Compile(ctx, p); err != nil {
			t.Fatal(err)
		}
		if remove {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(dir, shaOf(t, name))
	}
	goneOld, goneNew, there := compileAt("echo", true), compileAt("ok", true), compileAt("fail", false)
	age(t, filepath.Join(goneOld, "lock"), filepath.Join(there, "lock"))
	removed, err := e.Prune(ctx)
	if err != nil || !slices.Equal(removed, []string{filepath.Base(goneOld)}) {
		t.Fatalf("Prune removed %v, %v; want only the old entry whose source is gone", removed, err)
	}
	if !exists(goneNew) || !exists(there) {
		t.Error("a fresh entry, or one whose source is there, was removed")
	}
}

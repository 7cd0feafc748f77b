package wasmhost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
)

// The on-disk compilation cache
//
// With Options.CacheDir, each plugin binary gets an entry of its own,
// named by its SHA-256, holding wazero's file cache for it:
//
//	<cache_dir>/<sha256>/lock                 flock: shared by every process using the entry
//	<cache_dir>/<sha256>/source               the plugin paths that used it, one a line
//	<cache_dir>/<sha256>/wazero-<v>-<arch>-<os>/<key>   wazero's compiled code
//
// wazero names its files by a hash of the module and the CPU's features,
// which hookd cannot compute; an entry per binary is what lets hookd tell
// which files belong to which plugin version, and so remove what is no
// longer used. Versions of one binary share an entry (and, in memory, its
// compiled code) whichever plugins load it.
//
// # The prune rule
//
// [Engine.Prune] removes an entry only when all of these hold:
//
//   - no process has it open: a process holds a shared flock on its lock
//     file from before it compiles the binary until the last version using
//     it closes, and Prune removes an entry only under an exclusive lock
//     taken without waiting (so never one another hookd sharing the
//     directory runs, or is compiling, whatever its age);
//   - for each plugin path in its source file, at least [keepVersions]
//     newer entries of that path exist (an entry's age is its lock file's
//     mtime, touched by every process that opens it): the last few
//     versions of every plugin stay, so that a rollback or a restart does
//     not compile again; a path is written to the source file only once a
//     version of the binary started;
//   - an entry with no source file (a binary that was refused, one being
//     compiled, or one left by a crash) was last used more than
//     [orphanAge] ago.
//
// An entry whose every source path is gone (absolute paths that no longer
// exist: a stored plugin version's module file pruned by
// [Engine.PruneModules], a dry run's candidate written to a temporary
// directory, a plugin file removed from the configuration) is removed
// once it was last used more than [UnusedAge] ago, whatever the count of
// its path's versions: each stored version has a path of its own, so the
// keepVersions rule alone would keep them all forever. Relative paths
// (resolved against a working directory the pruner may not share) never
// count as gone.
//
// Anything in the directory that is not an entry (wazero's flat directory
// of an older hookd, files of other programs) is left alone. Without
// flock (Windows, Plan 9), Prune removes nothing.
const (
	// keepVersions is how many versions of each plugin path are kept.
	keepVersions = 3
	// orphanAge is how old an entry without a source file must be.
	orphanAge = 24 * time.Hour
	// maxSourceFile bounds the source file read and appended to.
	maxSourceFile = 64 << 10
)

// cacheEntry is one binary's compilation cache, held open by the versions
// that use it.
type cacheEntry struct {
	sha   string
	cache wazero.CompilationCache
	lock  *os.File // shared flock; nil in memory, or without flock
	refs  int
}

// acquireCache returns the compilation cache for the binary sha, opening
// its on-disk entry if there is a cache directory. Release it with
// releaseCache; once the version it is for has started, record the
// plugin's path with used.
func (e *Engine) acquireCache(sha string) (*cacheEntry, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cacheDir == "" {
		return &cacheEntry{sha: sha, cache: e.mem, refs: 1}, nil
	}
	dir := filepath.Join(e.cacheDir, sha)
	if ent := e.entries[sha]; ent != nil {
		ent.refs++
		touch(filepath.Join(dir, "lock"))
		e.unreserve(sha, nil) // held by the entry now (cache_modules.go)
		return ent, nil
	}
	lock, err := openEntry(dir)
	if err != nil {
		return nil, fmt.Errorf("wasm compilation cache %s: %w", dir, err)
	}
	e.unreserve(sha, nil)
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		closeLock(lock)
		return nil, fmt.Errorf("wasm compilation cache %s: %w", dir, err)
	}
	ent := &cacheEntry{sha: sha, cache: cache, lock: lock, refs: 1}
	e.entries[sha] = ent
	return ent, nil
}

// used records that the plugin at path runs (or may run) the entry's
// binary: Prune keeps the last few versions of each path. An entry whose
// binary was refused has no path, and goes once it is old (orphanAge).
func (e *Engine) used(ent *cacheEntry, path string) {
	if e.cacheDir != "" {
		addSource(filepath.Join(e.cacheDir, ent.sha), path)
	}
}

// releaseCache drops a reference; the last one closes the entry's cache
// (freeing its compiled code) and its lock.
func (e *Engine) releaseCache(ent *cacheEntry) {
	if ent == nil || e.cacheDir == "" {
		return
	}
	e.mu.Lock()
	ent.refs--
	last := ent.refs == 0
	if last {
		delete(e.entries, ent.sha)
	}
	e.mu.Unlock()
	if last {
		_ = ent.cache.Close(context.Background())
		closeLock(ent.lock)
		e.PruneSoon() // a version is gone: its entry may be one too many
	}
}

// openEntry makes the entry directory and takes a shared lock on its lock
// file, touching it (the entry's last use). A lock file removed by a
// pruner between open and lock is opened again.
func openEntry(dir string) (*os.File, error) {
	for range 5 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		lockPath := filepath.Join(dir, "lock")
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		if err := lockShared(f); err != nil {
			_ = f.Close()
			return nil, err
		}
		fi, err1 := f.Stat()
		cur, err2 := os.Stat(lockPath)
		if err1 == nil && err2 == nil && os.SameFile(fi, cur) {
			touch(lockPath)
			return f, nil
		}
		_ = f.Close() // pruned under us: start again
	}
	return nil, errors.New("the entry keeps being removed")
}

// touch marks an entry used now: Prune orders a plugin's versions by it.
func touch(lockPath string) {
	now := time.Now()
	_ = os.Chtimes(lockPath, now, now)
}

func closeLock(f *os.File) {
	if f != nil {
		_ = f.Close() // releases the flock
	}
}

// addSource appends path to the entry's source file unless it is there.
// Best effort: an entry without a source is only pruned once it is old.
func addSource(dir, path string) {
	name := filepath.Join(dir, "source")
	paths := readSources(name)
	if slices.Contains(paths, path) || strings.ContainsAny(path, "\n\r") {
		return
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()+int64(len(path))+1 > maxSourceFile {
		return
	}
	_, _ = f.WriteString(path + "\n")
}

func readSources(name string) []string {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(io.LimitReader(f, maxSourceFile))
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			paths = append(paths, l)
		}
	}
	return paths
}

// isEntryName reports whether name is an entry's: 64 lowercase hex digits.
func isEntryName(name string) bool {
	return len(name) == 64 && ValidSHA256(name) == nil && strings.ToLower(name) == name
}

// entryInfo is what Prune knows of one entry.
type entryInfo struct {
	sha     string
	used    time.Time // the lock file's mtime, else the directory's
	sources []string
	gone    bool // it has sources, and every one of them is gone (sourcesGone)
}

// sourcesGone reports whether paths is not empty and every path in it is
// absolute and does not exist.
func sourcesGone(paths []string) bool {
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return false
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return len(paths) > 0
}

// readEntry returns what Prune knows of the entry sha in cacheDir.
func readEntry(cacheDir, sha string) (entryInfo, bool) {
	dir := filepath.Join(cacheDir, sha)
	info := entryInfo{sha: sha, sources: readSources(filepath.Join(dir, "source"))}
	info.gone = sourcesGone(info.sources)
	if fi, err := os.Stat(filepath.Join(dir, "lock")); err == nil {
		info.used = fi.ModTime()
	} else if fi, err := os.Stat(dir); err == nil {
		info.used = fi.ModTime()
	} else {
		return info, false
	}
	return info, true
}

// Prune removes the compilation cache entries that no process uses and
// that are not among the last few versions of a plugin (the rule is in
// cache.go), and returns the SHA-256 of each entry removed. It does
// nothing without a cache directory, or without flock.
//
// # Notes
//
//   - Safe to run while other hookd processes share the directory: an
//     entry is removed only under an exclusive lock nobody else holds.
//   - Errors removing one entry do not stop the others; they are joined.
func (e *Engine) Prune(ctx context.Context) ([]string, error) {
	if e.cacheDir == "" || !canLock || e.isClosed() {
		return nil, nil
	}
	e.pruning.Lock()
	defer e.pruning.Unlock()
	return e.prune(ctx)
}

// prune is Prune, e.pruning held.
func (e *Engine) prune(ctx context.Context) ([]string, error) {
	des, err := os.ReadDir(e.cacheDir)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", e.cacheDir, err)
	}
	var entries []entryInfo
	for _, de := range des {
		if !de.IsDir() || !isEntryName(de.Name()) {
			continue
		}
		if info, ok := readEntry(e.cacheDir, de.Name()); ok {
			entries = append(entries, info)
		}
	}
	candidates := pruneCandidates(entries, time.Now())
	var removed []string
	var errs []error
	for _, sha := range candidates {
		if ctx.Err() != nil {
			break
		}
		ok, err := removeEntry(filepath.Join(e.cacheDir, sha))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("prune %s: %w", sha, err))
		case ok:
			removed = append(removed, sha)
		}
	}
	for _, sha := range removed {
		e.logger.DebugContext(ctx, "wasm compilation cache entry pruned", "sha256", sha)
	}
	if len(removed) > 0 {
		e.logger.InfoContext(ctx, "wasm compilation cache pruned", "removed", len(removed), "kept", len(entries)-len(removed))
	}
	return removed, errors.Join(errs...)
}

// PruneSoon asks for a [Engine.Prune] in the background, merged with any
// request still pending; errors are logged. The engine asks for one
// itself each time a version's entry is released (a reload, a close);
// call it once the plugins of a start are loaded. A no-op without a cache
// directory or flock, or once the engine is closed.
func (e *Engine) PruneSoon() {
	if e.cacheDir == "" || !canLock || e.manualPrune {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.pruneReq == nil {
		e.pruneReq, e.pruneStop, e.pruneDone = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go e.pruner(e.pruneReq, e.pruneStop, e.pruneDone)
	}
	select {
	case e.pruneReq <- struct{}{}:
	default:
	}
}

// pruner runs the prunes PruneSoon asks for, until stop.
func (e *Engine) pruner(req, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case <-req:
			if _, err := e.Prune(context.Background()); err != nil {
				e.logger.Warn("wasm compilation cache not pruned", "err", err)
			}
		}
	}
}

// pruneCandidates applies the age rules: an entry whose every source is
// gone is a candidate when older than UnusedAge; another one with sources
// when, for every path it was used by, keepVersions newer entries of that
// path exist; one without sources when it is older than orphanAge.
// Whether a process holds it is checked when removing.
func pruneCandidates(entries []entryInfo, now time.Time) []string {
	byPath := map[string][]entryInfo{}
	var out []string
	for _, en := range entries {
		if en.gone {
			if now.Sub(en.used) >= UnusedAge {
				out = append(out, en.sha)
			}
			continue
		}
		for _, p := range en.sources {
			byPath[p] = append(byPath[p], en)
		}
	}
	kept := map[string]bool{}
	for _, es := range byPath {
		slices.SortFunc(es, func(a, b entryInfo) int { return b.used.Compare(a.used) })
		for _, en := range es[:min(keepVersions, len(es))] {
			kept[en.sha] = true
		}
	}
	for _, en := range entries {
		switch {
		case en.gone, kept[en.sha]:
		case len(en.sources) == 0 && now.Sub(en.used) < orphanAge:
		default:
			out = append(out, en.sha)
		}
	}
	slices.Sort(out)
	return out
}

// removeEntry removes the entry at dir if nobody holds its lock, and
// reports whether it did. The lock file is created if missing (an entry
// left without one), so that a process opening the entry meanwhile waits
// for the removal and then makes it again.
func removeEntry(dir string) (bool, error) {
	lockPath := filepath.Join(dir, "lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // removed by another pruner
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if ok, err := tryLockExclusive(f); err != nil || !ok {
		return false, err
	}
	// Another pruner may have removed the entry, and a process made it
	// again, between our open and our lock.
	fi, err1 := f.Stat()
	cur, err2 := os.Stat(lockPath)
	if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
		return false, nil
	}
	return removeDir(dir)
}

// removeDir removes a locked entry's directory. A process opening the
// entry meanwhile (or another pruner trying its lock) makes its lock file
// again as soon as the old one is gone, and the directory is then not
// empty at the end: the entry is in use again, which is no error, and it
// is reported as not removed (its compiled code is gone, and is made
// again as after any prune).
func removeDir(dir string) (bool, error) {
	err := os.RemoveAll(dir)
	if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
		return false, nil
	}
	return err == nil, err
}

// Compiled reports whether the compiled code of the binary whose SHA-256
// is sha is in the engine's cache directory: loading it then reads the
// code back instead of compiling it. A node uses it to skip a stored
// plugin version it compiled already (without reading the module), and
// tests to wait for a compile ahead of activation. Always false without
// a cache directory (compiled code in memory is not looked up).
func (e *Engine) Compiled(sha string) bool {
	if e.cacheDir == "" || !isEntryName(sha) {
		return false
	}
	dirs, _ := filepath.Glob(filepath.Join(e.cacheDir, sha, "wazero-*"))
	for _, d := range dirs {
		des, _ := os.ReadDir(d)
		for _, de := range des {
			// wazero writes a temporary file and renames it: a
			// finished one has no .tmp suffix.
			if de.Type().IsRegular() && !strings.HasSuffix(de.Name(), ".tmp") {
				return true
			}
		}
	}
	return false
}

// Compile reads the plugin binary at path and compiles it into the
// engine's cache, without starting it: for tools that fill a cache
// directory ahead of the processes that will load from it
// (internal/plugintest's compiler). The entry is released at once, so
// Prune's rule applies to it as to any other.
func (e *Engine) Compile(ctx context.Context, path string) error {
	if e.isClosed() {
		return ErrClosed
	}
	wasm, sha, _, err := readBinary(path)
	if err != nil {
		return err
	}
	entry, err := e.acquireCache(sha)
	if err != nil {
		return err
	}
	defer e.releaseCache(entry)
	rt := wazero.NewRuntimeWithConfig(ctx, e.runtimeConfig(MaxMemoryPages, entry.cache))
	defer rt.Close(ctx)
	compiled, err := e.compile(ctx, rt, wasm, sha)
	if err != nil {
		return fmt.Errorf("plugin %s does not compile: %w", path, err)
	}
	e.used(entry, path)
	return compiled.Close(ctx)
}

package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Module files
//
// A plugin that reaches a host as bytes (a stored plugin version, issue 17)
// is written to <cache_dir>/modules/<sha256>.wasm (builtin/wasmscript,
// module.go) and loaded from there like any plugin file. Owners push and
// delete versions, so these files, and the compilation cache entry of each
// (whose only source is the file), would pile up: each has a path of its
// own, so Prune's keepVersions rule never retires them.
// [Engine.PruneModules] removes a module file when all of these hold:
//
//   - the caller does not keep its SHA-256 (the runtime keeps the binary
//     of every stored version of every domain);
//   - it was last written or loaded more than [UnusedAge] ago: its mtime,
//     which the writer sets on every load (module.go), read again once the
//     lock below is held;
//   - no process runs, compiles or is about to load its binary: it is
//     removed under an exclusive flock of the binary's entry lock
//     (cache.go), taken without waiting, which every process running the
//     binary holds shared, and which a writer holds shared ([Engine.Reserve])
//     from before it writes or touches the file until well after its load
//     took its own.
//
// Then the binary's compilation cache entry goes with it if every path
// that used it is gone (Prune's rule, cache.go). A file removed while
// another hookd sharing the directory still needs it (one on another
// store, which keeps other versions) is written again from that store's
// bytes on its next load, and compiled again: share a cache directory
// between nodes of one store.
//
// Temporary files of writers or pruners that died (".tmp-…") go once
// older than UnusedAge. Without flock, PruneModules removes nothing.
const (
	// ModulesDir is the directory of module files in a cache directory.
	ModulesDir = "modules"
	// UnusedAge is how long a module file, or an entry whose sources are
	// all gone, stays after its last use: a version being stored (its
	// file written by the check before the store's commit makes it
	// known), another node's view of the store lagging, a rollback soon
	// after a delete and re-push.
	UnusedAge = time.Hour
	// reserveFor is how long Reserve holds an entry: far more than the
	// time from writing a module file to its load taking the entry.
	reserveFor = 5 * time.Minute
)

// PruneReport is what a [Engine.PruneModules] did.
type PruneReport struct {
	// Modules are the SHA-256s of the module files removed.
	Modules []string
	// Entries are the SHA-256s of the compilation cache entries removed.
	Entries []string
	// Busy are the SHA-256s of module files that were candidates but that
	// a process holds (runs, compiles or is loading): try again later.
	Busy []string
}

// ModuleDir returns the directory of module files in e's cache directory
// (made by the writer), "" without one.
func (e *Engine) ModuleDir() string {
	if e.cacheDir == "" {
		return ""
	}
	return filepath.Join(e.cacheDir, ModulesDir)
}

// ModuleFile returns the path of the module file of the binary sha in e's
// cache directory, "" without one.
func (e *Engine) ModuleFile(sha string) string {
	if e.cacheDir == "" {
		return ""
	}
	return filepath.Join(e.ModuleDir(), sha+".wasm")
}

// Reserve holds the compilation cache entry of the binary sha shared, for
// a while (reserveFor), so that no pruner removes its module file while
// this process writes it, touches it or loads it: call it before looking
// at the file. The entry is made if missing (Load would make it anyway).
// A no-op without a cache directory or flock.
func (e *Engine) Reserve(sha string) error {
	if e.cacheDir == "" || !canLock || !isEntryName(sha) {
		return nil
	}
	lock, err := openEntry(filepath.Join(e.cacheDir, sha))
	if err != nil {
		return fmt.Errorf("wasm compilation cache %s: %w", sha, err)
	}
	k := reservation{e, sha}
	reservations.Lock()
	reservations.m[k] = append(reservations.m[k], lock)
	reservations.Unlock()
	time.AfterFunc(reserveFor, func() { e.unreserve(sha, lock) })
	return nil
}

// reservations are the locks Reserve holds, until the engine takes the
// entry itself (acquireCache) or reserveFor has passed: a package's table,
// not the engine's, so that the Engine type stays as engine.go has it.
var reservations = struct {
	sync.Mutex
	m map[reservation][]*os.File
}{m: map[reservation][]*os.File{}}

type reservation struct {
	e   *Engine
	sha string
}

// unreserve releases e's reservations of sha: only lock, or, when lock is
// nil, every one.
func (e *Engine) unreserve(sha string, lock *os.File) {
	k := reservation{e, sha}
	reservations.Lock()
	var drop []*os.File
	keep := reservations.m[k][:0]
	for _, f := range reservations.m[k] {
		if lock == nil || f == lock {
			drop = append(drop, f)
		} else {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		delete(reservations.m, k)
	} else {
		reservations.m[k] = keep
	}
	reservations.Unlock()
	for _, f := range drop {
		closeLock(f)
	}
}

// PruneModules removes the module files of binaries keep does not hold,
// with their compilation cache entries (the rule is in cache_modules.go),
// and then prunes the entries as [Engine.Prune] does. keep is called with
// lowercase hex SHA-256s.
//
// # Notes
//
//   - Safe while other hookd processes share the directory.
//   - Errors removing one file do not stop the others; they are joined.
//   - ctx ends it between files.
func (e *Engine) PruneModules(ctx context.Context, keep func(sha string) bool) (PruneReport, error) {
	var rep PruneReport
	if e.cacheDir == "" || !canLock || e.isClosed() {
		return rep, nil
	}
	e.pruning.Lock()
	defer e.pruning.Unlock()
	dir := e.ModuleDir()
	des, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("prune %s: %w", dir, err)
	}
	now := time.Now()
	var errs []error
	for _, de := range des {
		if ctx.Err() != nil {
			return rep, errors.Join(append(errs, ctx.Err())...)
		}
		name := de.Name()
		sha, isModule := strings.CutSuffix(name, ".wasm")
		switch {
		case isModule && isEntryName(sha) && de.Type().IsRegular():
			if keep(sha) {
				continue
			}
			if fi, err := de.Info(); err != nil || now.Sub(fi.ModTime()) < UnusedAge {
				continue
			}
			removed, entry, err := e.removeModule(sha, now)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("prune module %s: %w", sha, err))
			case removed:
				rep.Modules = append(rep.Modules, sha)
				e.logger.DebugContext(ctx, "plugin module file pruned", "sha256", sha)
				if entry {
					rep.Entries = append(rep.Entries, sha)
					e.logger.DebugContext(ctx, "wasm compilation cache entry pruned", "sha256", sha)
				}
			default:
				rep.Busy = append(rep.Busy, sha)
			}
		case strings.HasPrefix(name, ".tmp-"):
			// A writer's temporary file: one that died left it.
			if fi, err := de.Info(); err == nil && now.Sub(fi.ModTime()) >= UnusedAge {
				_ = os.Remove(filepath.Join(dir, name))
			}
		}
	}
	entries, err := e.prune(ctx)
	rep.Entries = append(rep.Entries, entries...)
	return rep, errors.Join(append(errs, err)...)
}

// removeModule removes the module file of sha, and its entry if every
// source of the entry is gone then, under the entry's exclusive lock; it
// reports whether it removed the file (false: a process holds the entry,
// or the file was used since it was listed) and the entry.
func (e *Engine) removeModule(sha string, now time.Time) (removed, entryRemoved bool, err error) {
	dir := filepath.Join(e.cacheDir, sha)
	_, statErr := os.Stat(dir)
	made := errors.Is(statErr, fs.ErrNotExist) // no entry: one is made to lock, then removed
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, false, err
	}
	lockPath := filepath.Join(dir, "lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	if ok, err := tryLockExclusive(f); err != nil || !ok {
		return false, false, err
	}
	fi, err1 := f.Stat()
	cur, err2 := os.Stat(lockPath)
	if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
		return false, false, nil // removed and made again meanwhile
	}
	if made {
		// The entry was made only to be locked: it goes, whatever
		// happens to the file (a process waiting to open it makes it
		// again, as after any prune).
		defer func() {
			if _, rerr := removeDir(dir); err == nil {
				err = rerr
			}
		}()
	}
	path := e.ModuleFile(sha)
	// Under the lock, nobody touches the file; one who did since it was
	// listed (a load, a push of the same bytes) keeps it.
	mfi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, false, nil // another pruner's
	case err != nil:
		return false, false, err
	case now.Sub(mfi.ModTime()) < UnusedAge:
		return false, false, nil
	}
	if err := os.Remove(path); err != nil {
		return false, false, err
	}
	if made {
		return true, false, nil
	}
	if info, ok := readEntry(e.cacheDir, sha); ok && info.gone && now.Sub(info.used) >= UnusedAge {
		gone, err := removeDir(dir)
		return true, gone, err
	}
	return true, false, nil
}

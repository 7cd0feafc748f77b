package runtime

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"github.com/hookrt/hookd/internal/wasmhost"
)

// Pruning the module files of deleted plugin versions
//
// A node writes every stored version it loads or compiles ahead to
// <cache_dir>/modules/<sha256>.wasm, beside its compiled code
// (builtin/wasmscript, module.go). Owners push versions and delete them,
// and operators delete domains, so the precompiler, which lists the
// SHA-256 of every stored version on each scan anyway, has the cache
// pruned of the binaries no stored version of any domain has
// (wasmscript.Host.PruneModules; the rules, grace age and locking are in
// internal/wasmhost/cache_modules.go). It does so, at the end of a scan:
//
//   - when the scan finds a SHA-256 gone since the previous one: a version
//     or a domain was deleted, on this node or another;
//   - when asked (pruneSoon: this node just deleted one);
//   - every modulePruneEvery in any case (the first scan included: what
//     piled up while the node was down, a dry run's candidate, a file of
//     a push whose store write failed);
//   - every busyRetryEvery while a candidate was in use (a deleted
//     domain's plugin still closing, another process running it).
//
// A file is removed only once unused for wasmhost.UnusedAge, so a delete
// frees the files of versions that did not run for that long at once,
// and the others at a later prune. A file that is still needed but
// missing (another process sharing cache_dir pruned it) is written again
// from the store when its version is loaded.
const (
	// modulePruneEvery is how often a node prunes without a delete.
	modulePruneEvery = time.Hour
	// busyRetryEvery is how soon a prune that met files in use runs again.
	busyRetryEvery = 30 * time.Second
)

// pruneSoon asks for a prune at the next scan, which it asks for. Safe on
// a nil precompiler.
func (p *precompiler) pruneSoon() {
	if p == nil {
		return
	}
	p.pruneAsked.Store(true)
	p.kick()
}

// afterDelete is what a node does once it deleted a plugin version or a
// stored domain (and applied the change): have the files no version needs
// any more pruned.
func (s *domainsState) afterDelete() {
	s.pre.pruneSoon()
}

// now is the precompiler's clock: the time, or a test's.
func (p *precompiler) now() time.Time {
	if c := p.clock.Load(); c != nil {
		return (*c)()
	}
	return time.Now()
}

// noteStored records the SHA-256s of the stored versions a scan found and
// reports whether one found by the previous scan is gone (a version or a
// domain deleted). It forgets what it compiled of the binaries gone.
func (p *precompiler) noteStored(stored map[string]bool) bool {
	deleted := false
	for sha := range p.stored {
		if !stored[sha] {
			deleted = true
			break
		}
	}
	maps.DeleteFunc(p.seen, func(sha string, _ bool) bool { return !stored[sha] })
	p.stored = stored
	return deleted
}

// pruneDue reports whether a scan should prune now (the rules are above).
func (p *precompiler) pruneDue(deleted bool) bool {
	asked := p.pruneAsked.Swap(false)
	now := p.now()
	return deleted || asked || p.lastPrune.IsZero() || now.Sub(p.lastPrune) >= modulePruneEvery ||
		(!p.busyUntil.IsZero() && !now.Before(p.busyUntil))
}

// prune removes the module files, and compiled code, of the binaries no
// stored version has (stored: every stored version's SHA-256, from a scan
// that listed them all), and logs what it removed, at debug; an error is
// logged (the next prune tries again).
func (p *precompiler) prune(ctx context.Context, stored map[string]bool) {
	p.lastPrune, p.busyUntil = p.now(), time.Time{}
	err := p.ensureHost(ctx)
	var rep wasmhost.PruneReport
	if err == nil {
		rep, err = p.host.PruneModules(ctx, func(sha string) bool { return stored[sha] })
	}
	if len(rep.Busy) > 0 {
		p.busyUntil = p.lastPrune.Add(busyRetryEvery)
	}
	if len(rep.Modules)+len(rep.Entries)+len(rep.Busy) > 0 {
		p.log.DebugContext(ctx, "stored plugin modules pruned", slog.Any("modules", rep.Modules),
			slog.Any("compiled", rep.Entries), slog.Any("in_use", rep.Busy))
	}
	if err != nil && ctx.Err() == nil {
		p.log.Warn("stored plugin modules: prune of the cache directory", slog.String("dir", p.cacheDir), slog.Any("error", err))
	}
}

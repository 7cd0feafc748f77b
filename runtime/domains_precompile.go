package runtime

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/internal/store"
)

// Compiling stored plugin versions ahead of their activation
//
// A node that builds a stored domain compiles its plugin if its
// compilation cache does not hold it yet; for a Go-built module that is a
// second or two on a loaded node, so an activation that waited for it
// would take that long on every node but the one that stored the version
// (whose trial build compiled it). Each node therefore compiles every
// stored version in the background as soon as it sees it stored
// (`-activate=false` included): one at a time, newest first, into the
// same cache directory as the plugin host of [http_events], so that an
// activation or a rollback only reads the compiled code back.
//
// A node learns of a version stored without activation from a PostgreSQL
// notification (the store moves no revision for it: nothing changes what
// runs) or, when notifications do not arrive, from a scan every
// versionScanEvery. A version pushed and activated at once is compiled by
// the build that activates it (the scan after a notification runs once
// that build is done, and finds it compiled). A scan reads the versions' metadata only; a module is read from the
// store only when this node's cache does not hold its compiled code.

// versionScanEvery is how often a node looks for stored plugin versions
// it has not compiled when no notification told it of one.
const versionScanEvery = 5 * time.Second

// precompileOff turns compiling ahead off, so that a test can measure
// what an activation costs without it (a variable for the tests).
var precompileOff = false

// precompiler compiles a node's stored plugin versions in the background.
type precompiler struct {
	db       *store.DB
	log      *slog.Logger
	cacheDir string // [plugins] cache_dir, resolved

	kickc chan struct{}
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	cur     string        // the SHA-256 being compiled, "" when idle
	curDone chan struct{} // closed when that compile ends

	// Owned by run's goroutine.
	host *wasmscript.Host // made on the first compile or prune
	seen map[string]bool  // SHA-256s compiled, or refused, on this node

	// Pruning the cache of module files no version needs
	// (domains_prune.go); owned by run's goroutine, but for pruneAsked
	// and clock.
	stored     map[string]bool // the SHA-256 of every stored version at the last scan
	lastPrune  time.Time       // the last prune's start (zero: none yet)
	busyUntil  time.Time       // when to prune again for candidates that were in use (zero: none)
	pruneAsked atomic.Bool     // pruneSoon was called
	clock      atomic.Pointer[func() time.Time]
}

func newPrecompiler(db *store.DB, log *slog.Logger, cacheDir string) *precompiler {
	return &precompiler{db: db, log: log, cacheDir: cacheDir, seen: map[string]bool{},
		kickc: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// kick asks for a scan soon, merged with one already asked for. Safe on
// a nil precompiler (a node that runs no stored domains).
func (p *precompiler) kick() {
	if p == nil {
		return
	}
	select {
	case p.kickc <- struct{}{}:
	default:
	}
}

// start runs the scans until close. Safe on a nil precompiler.
func (p *precompiler) start() {
	if p == nil {
		return
	}
	p.kick()
	go p.run()
}

// close stops the scans and waits for the goroutine, which closes the
// host. A compile in progress (one at most) ends soon: its context is
// cancelled, and wazero checks it between functions. Safe on a nil
// precompiler.
func (p *precompiler) close() {
	if p == nil {
		return
	}
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

func (p *precompiler) run() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel() // ends a scan or a compile in progress
		case <-ctx.Done():
		}
	}()
	defer func() {
		if p.host != nil {
			_ = p.host.Close()
		}
	}()
	t := time.NewTicker(versionScanEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kickc:
		case <-t.C:
		}
		if err := p.scan(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("stored plugin versions: scan for versions to compile", slog.Any("error", err))
		}
	}
}

// wait waits until the compile of the binary sha in progress, if any,
// has ended, or ctx ends: a build of the same version (an activation
// arriving while it is compiled ahead) then reads the compiled code back
// instead of compiling it a second time beside it. Safe on a nil
// precompiler.
func (p *precompiler) wait(ctx context.Context, sha string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	var ch chan struct{}
	if p.cur != "" && p.cur == strings.ToLower(sha) {
		ch = p.curDone
	}
	p.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
}

// scan compiles, one after the other, the stored versions whose compiled
// code this node's cache does not hold, newest of each domain first. A
// domain's active version is left to the watcher, whose build compiles
// it when it is activated (or at start), so that the two never compile
// one binary side by side. Then it prunes the module files no stored
// version needs any more, when one is due (domains_prune.go).
func (p *precompiler) scan(ctx context.Context) error {
	rows, err := p.db.StoredDomains(ctx)
	if err != nil {
		return err
	}
	type todo struct {
		domain  string
		version int
		sha     string
	}
	var todos []todo
	stored := map[string]bool{}
	for _, row := range rows {
		vs, err := p.db.PluginVersions(ctx, row.ID)
		if err != nil {
			return err
		}
		for _, v := range vs {
			sha := strings.ToLower(v.SHA256)
			stored[sha] = true
			if !p.seen[sha] && !v.Active {
				todos = append(todos, todo{row.ID, v.Version, sha})
			}
		}
	}
	deleted := p.noteStored(stored)
	for _, td := range todos {
		if ctx.Err() != nil {
			return nil
		}
		if p.seen[td.sha] {
			continue // two versions of one binary
		}
		if err := p.compile(ctx, td.domain, td.version, td.sha); err != nil {
			if ctx.Err() != nil {
				return nil // stopping: not this version's fault
			}
			// Judged on write, so this is this node's trouble; the
			// activation's build will try (and say) again.
			p.log.Warn("stored plugin version not compiled ahead of activation",
				slog.String("domain", td.domain), slog.Int("version", td.version), slog.Any("error", err))
		}
		p.seen[td.sha] = true
	}
	if p.pruneDue(deleted) {
		p.prune(ctx, stored)
	}
	return nil
}

// ensureHost makes the precompiler's plugin host on the node's cache
// directory, if it has none yet.
func (p *precompiler) ensureHost(ctx context.Context) error {
	if p.host != nil {
		return nil
	}
	h, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{CacheDir: p.cacheDir, Logger: p.log})
	if err != nil {
		return err
	}
	p.host = h
	return nil
}

// compile compiles one version into the cache unless it is there.
func (p *precompiler) compile(ctx context.Context, domain string, version int, sha string) error {
	if err := p.ensureHost(ctx); err != nil {
		return err
	}
	if p.host.Compiled(sha) {
		return nil
	}
	_, module, err := p.db.PluginVersion(ctx, domain, version)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cur, p.curDone = sha, make(chan struct{})
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		close(p.curDone)
		p.cur, p.curDone = "", nil
		p.mu.Unlock()
	}()
	start := time.Now()
	if err := p.host.Precompile(ctx, module, sha); err != nil {
		return err
	}
	p.log.Info("stored plugin version compiled ahead of activation", slog.String("domain", domain),
		slog.Int("version", version), slog.String("sha256", sha), slog.Duration("took", time.Since(start).Round(time.Millisecond)))
	return nil
}

// announceVersion has this node compile a version stored without being
// activated (its trial build compiled it; the scan finds it so). The
// other nodes hear of it from the store's notification (VersionStored,
// PostgreSQL), or from the scan every versionScanEvery.
func (s *domainsState) announceVersion(context.Context) {
	s.pre.kick()
}

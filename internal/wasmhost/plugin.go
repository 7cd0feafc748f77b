package wasmhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hookrt/hookd/internal/hostfn"
)

// Plugin is one loaded plugin: the current version of its binary, compiled,
// with a pool of warm instances. Make one with [Engine.Load]; it is safe for
// concurrent use.
type Plugin struct {
	e      *Engine
	path   string
	lim    Limits
	grants *hostfn.Grants
	logger *slog.Logger
	gate   *gate // CPU slots and breaker, across versions (fair.go)

	cur  atomic.Pointer[version] // nil once closed
	sha  atomic.Pointer[string]
	mu   sync.Mutex    // serialises Reload and Close, and guards below
	stop chan struct{} // closed by Close: old versions stop waiting for their calls
	old  sync.WaitGroup

	// seen is the file as last read into the running version (or found
	// to hold its binary); refused is the file as last refused, with why.
	// Reload reads the file only when its stat differs from both.
	seen    os.FileInfo
	refused os.FileInfo
	refusal error
}

// Load reads the plugin binary at path, compiles it (or takes it from the
// cache), checks it against the ABI, and starts lim.Instances instances,
// each running _initialize and hookd_v1_init. It is meant for start-up and
// configuration changes, never for the event path.
//
//	p, err := e.Load(ctx, "/etc/hookd/plugins/acme.wasm", wasmhost.Limits{Timeout: 100 * time.Millisecond}, grants)
//
// # Notes
//
//   - The binary is at most [MaxBinary] bytes; with lim.SHA256 set, it
//     must have that SHA-256 ([ErrPinned]).
//   - g is shared by every call; the caller keeps ownership (and closes
//     g.HTTP after the plugin).
//   - Errors name the file and wrap [ErrABI] (with an [*ABIError]) or
//     [ErrRefused]; a memory declaration over lim.MemoryPages is refused
//     with wazero's text ("min 300 pages (18 Mi) over limit of 256 pages").
func (e *Engine) Load(ctx context.Context, path string, lim Limits, g hostfn.Grants) (*Plugin, error) {
	if e.isClosed() {
		return nil, ErrClosed
	}
	lim = lim.withDefaults()
	if err := lim.validate(); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	p := &Plugin{
		e:      e,
		path:   path,
		lim:    lim,
		grants: &g,
		gate:   newGate(lim.Concurrency),
		stop:   make(chan struct{}),
	}
	p.logger = e.logger.With("plugin", filepath.Base(path))
	wasm, sha, fi, err := readBinary(path)
	if err != nil {
		return nil, err
	}
	if err := p.checkPin(sha); err != nil {
		return nil, err
	}
	v, err := p.newVersion(ctx, wasm, sha)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	if err := e.add(p); err != nil {
		v.shutdown(ctx, nil)
		return nil, err
	}
	p.cur.Store(v)
	p.sha.Store(&sha)
	p.seen = fi
	p.logger.InfoContext(ctx, "plugin loaded", "sha256", sha[:12], "instances", lim.Instances, "concurrency", lim.Concurrency)
	return p, nil
}

// fileError says what is wrong with a plugin file, naming it once:
// "plugin PATH does not exist", "plugin PATH: cannot open: permission
// denied" (an *fs.PathError would name the path a second time).
func fileError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return newError("plugin "+path+" does not exist", ErrRefused, err)
	}
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return newError("plugin "+path+": cannot "+pe.Op+": "+pe.Err.Error(), ErrRefused, err)
	}
	return newError("plugin "+path+": "+err.Error(), ErrRefused, err)
}

// readBinary reads a plugin file of at most MaxBinary bytes and hashes it;
// it also returns the file's stat, taken from the file it read.
func readBinary(path string) ([]byte, string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, fileError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, "", fi, newError("plugin "+path+": not a regular file", ErrRefused)
	}
	wasm, err := io.ReadAll(io.LimitReader(f, MaxBinary+1))
	if err != nil {
		return nil, "", fi, newError("plugin "+path+": "+err.Error(), ErrRefused, err)
	}
	if len(wasm) > MaxBinary {
		return nil, "", fi, newError(fmt.Sprintf("plugin %s: binary over the %d-byte limit", path, MaxBinary), ErrRefused)
	}
	sum := sha256.Sum256(wasm)
	return wasm, hex.EncodeToString(sum[:]), fi, nil
}

// checkPin refuses a binary whose SHA-256 is not the pinned one.
func (p *Plugin) checkPin(sha string) error {
	if p.lim.SHA256 == "" || sha == p.lim.SHA256 {
		return nil
	}
	return newError(fmt.Sprintf("plugin %s: its sha256 is %s, but it is pinned to %s ([domain.plugin] sha256)",
		p.path, sha, p.lim.SHA256), ErrPinned, ErrRefused)
}

// sameFile reports whether two stats of a path are of the same file,
// unchanged: same file (device and inode), size and modification time.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// SHA256 returns the hex SHA-256 of the binary the plugin runs.
func (p *Plugin) SHA256() string { return *p.sha.Load() }

// Path returns the file the plugin was loaded from.
func (p *Plugin) Path() string { return p.path }

// Limits returns the plugin's limits, defaults applied.
func (p *Plugin) Limits() Limits { return p.lim }

// Idle returns how many warm instances of the running version wait in its
// pool now (0 once closed).
func (p *Plugin) Idle() int {
	if v := p.cur.Load(); v != nil {
		return len(v.pool)
	}
	return 0
}

// BackedOff reports whether the plugin's breaker is open now (its calls
// are refused with [ErrBackedOff]), and how many times it opened.
func (p *Plugin) BackedOff() (open bool, opened int64) { return p.gate.state() }

// Reload looks at the plugin file again. If it changed and its SHA-256 is
// new, the new binary is compiled and its instances started off to the
// side; then it replaces the old one atomically, and the old instances are
// closed once the calls running on them have finished. It reports whether
// it swapped.
//
//	swapped, err := p.Reload(ctx)
//
// # Notes
//
//   - The file is read only when its stat (file, size, mtime) differs from
//     that of the file the running version came from: polling costs a
//     stat, not a read and a hash.
//   - A new binary that cannot be read, compiled, checked or started, or
//     that does not match the pinned SHA-256, is an error, and the old one
//     keeps serving. The same file is not tried again: until its stat
//     changes, Reload returns false and no error (the refusal was said
//     once; [Plugin.Refusal] keeps it).
//   - Calls are never refused during a swap: those waiting for an old
//     instance move to the new version. A swap closes the breaker.
//   - Reloads of one plugin are serialised.
func (p *Plugin) Reload(ctx context.Context) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.cur.Load()
	if old == nil {
		return false, ErrClosed
	}
	st, err := os.Stat(p.path)
	if err == nil && (sameFile(st, p.seen) || sameFile(st, p.refused)) {
		return false, nil
	}
	if err != nil {
		// A missing or unreadable file is said once, until that changes.
		err = newError(fmt.Sprintf("%v; %s keeps serving", fileError(p.path, err), old.sha[:12]), ErrRefused, err)
		if p.refused == nil && p.refusal != nil && p.refusal.Error() == err.Error() {
			return false, nil
		}
		return false, p.refuse(nil, err)
	}
	wasm, sha, fi, err := readBinary(p.path)
	if fi == nil {
		fi = st
	}
	if err != nil {
		return false, p.refuse(fi, fmt.Errorf("new version not loaded, %s keeps serving: %w", old.sha[:12], err))
	}
	if sha == old.sha {
		p.seen, p.refused, p.refusal = fi, nil, nil
		return false, nil
	}
	if err := p.checkPin(sha); err != nil {
		return false, p.refuse(fi, fmt.Errorf("new version not loaded, %s keeps serving: %w", old.sha[:12], err))
	}
	v, err := p.newVersion(ctx, wasm, sha)
	if err != nil {
		return false, p.refuse(fi, fmt.Errorf("plugin %s: new version not loaded, %s keeps serving: %w", p.path, old.sha[:12], err))
	}
	p.cur.Store(v)
	p.sha.Store(&sha)
	p.seen, p.refused, p.refusal = fi, nil, nil
	p.gate.reset()
	p.old.Add(1)
	go func() {
		defer p.old.Done()
		old.shutdown(context.Background(), p.stop)
	}()
	p.logger.InfoContext(ctx, "plugin reloaded", "sha256", sha[:12], "previous", old.sha[:12])
	return true, nil
}

// refuse remembers a refused file (fi nil: it could not be read) and
// returns err. The caller holds p.mu.
func (p *Plugin) refuse(fi os.FileInfo, err error) error {
	p.refused, p.refusal = fi, err
	return err
}

// Refusal returns why the file was last refused, or nil if the running
// version is the file's latest.
func (p *Plugin) Refusal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusal
}

// Close stops the plugin: new calls fail with [ErrClosed], calls running
// finish (or, once ctx is done, are stopped), and every instance, runtime
// and goroutine of the plugin is gone when Close returns.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.cur.Swap(nil)
	if v == nil {
		return nil
	}
	// The newest version first, then the older ones still draining.
	v.shutdown(ctx, nil)
	close(p.stop)
	p.old.Wait()
	p.e.forget(p)
	return nil
}

package wasmhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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

	cur  atomic.Pointer[version] // nil once closed
	sha  atomic.Pointer[string]
	mu   sync.Mutex    // serialises Reload and Close
	stop chan struct{} // closed by Close: old versions stop waiting for their calls
	old  sync.WaitGroup
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
//   - The binary is at most [MaxBinary] bytes.
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
		stop:   make(chan struct{}),
	}
	p.logger = e.logger.With("plugin", filepath.Base(path))
	wasm, sha, err := readBinary(path)
	if err != nil {
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
	p.logger.InfoContext(ctx, "plugin loaded", "sha256", sha[:12], "instances", lim.Instances)
	return p, nil
}

// readBinary reads a plugin file of at most MaxBinary bytes and hashes it.
func readBinary(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", newError("plugin "+path+": "+err.Error(), ErrRefused, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, "", newError("plugin "+path+": not a regular file", ErrRefused)
	}
	wasm, err := io.ReadAll(io.LimitReader(f, MaxBinary+1))
	if err != nil {
		return nil, "", newError("plugin "+path+": "+err.Error(), ErrRefused, err)
	}
	if len(wasm) > MaxBinary {
		return nil, "", newError(fmt.Sprintf("plugin %s: binary over the %d-byte limit", path, MaxBinary), ErrRefused)
	}
	sum := sha256.Sum256(wasm)
	return wasm, hex.EncodeToString(sum[:]), nil
}

// SHA256 returns the hex SHA-256 of the binary the plugin runs.
func (p *Plugin) SHA256() string { return *p.sha.Load() }

// Path returns the file the plugin was loaded from.
func (p *Plugin) Path() string { return p.path }

// Limits returns the plugin's limits, defaults applied.
func (p *Plugin) Limits() Limits { return p.lim }

// Reload reads the plugin file again. If its SHA-256 changed, the new
// binary is compiled and its instances started off to the side; then it
// replaces the old one atomically, and the old instances are closed once
// the calls running on them have finished. It reports whether it swapped.
//
//	swapped, err := p.Reload(ctx)
//
// # Notes
//
//   - A new binary that cannot be read, compiled, checked or started is an
//     error, and the old one keeps serving.
//   - Calls are never refused during a swap: those waiting for an old
//     instance move to the new version.
//   - Reloads of one plugin are serialised.
func (p *Plugin) Reload(ctx context.Context) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.cur.Load()
	if old == nil {
		return false, ErrClosed
	}
	wasm, sha, err := readBinary(p.path)
	if err != nil {
		return false, err
	}
	if sha == old.sha {
		return false, nil
	}
	v, err := p.newVersion(ctx, wasm, sha)
	if err != nil {
		return false, fmt.Errorf("plugin %s: new version not loaded, %s keeps serving: %w", p.path, old.sha[:12], err)
	}
	p.cur.Store(v)
	p.sha.Store(&sha)
	p.old.Add(1)
	go func() {
		defer p.old.Done()
		old.shutdown(context.Background(), p.stop)
	}()
	p.logger.InfoContext(ctx, "plugin reloaded", "sha256", sha[:12], "previous", old.sha[:12])
	return true, nil
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

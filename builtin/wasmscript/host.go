package wasmscript

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// HostOptions configure a [Host].
type HostOptions struct {
	// CacheDir keeps compiled code on disk there ("" keeps it in memory).
	CacheDir string
	// PrivateDir is where the key files named in Settings.Keys are.
	PrivateDir string
	// UserAgent is sent by plugins' HTTP requests that set none.
	UserAgent string
	// Logger receives plugin log lines, loads and reloads; nil discards.
	Logger *slog.Logger
	// Counters receives every call of a plugin's Handle (its outcome and
	// how long the guest ran) and every reload; nil: the plugins' metrics
	// in Metrics ([NewCounters]).
	Counters Counters
	// Metrics is the runtime's metrics registry (hook.Env.Metrics); nil
	// counts nothing.
	Metrics hook.MetricsRegistry
}

// Spec is one plugin to load: its file (or its bytes) and how it runs.
type Spec struct {
	// Domain is the DOMAIN_ID whose events it handles, for logs.
	Domain string
	// Path is the .wasm file, resolved. Ignored when Module is set.
	Path string
	// Module, when set, is the plugin's binary itself (a stored plugin
	// version): the host writes it once to a content-addressed file in
	// its cache directory and loads that file as any other (module.go).
	Module []byte
	// SHA256, when set with Module, is the hex SHA-256 the module was
	// stored with; bytes that do not match it are refused.
	SHA256 string
	// Settings are its limits and capabilities.
	Settings Settings
	// Config is its own configuration, read with config_read.
	Config map[string]any
	// Strict judges its replies as a strict script's: a reply that is not
	// <nomessage/> or XMLMSG fails the call.
	Strict bool
}

// Host loads and runs the plugins of one configuration load: one wazero
// engine, whose compiled code they share, and the plugins loaded from it.
// Make one with [NewHost]; close it with [Host.Close], which closes every
// plugin. It is safe for concurrent use.
type Host struct {
	engine *wasmhost.Engine
	o      HostOptions

	mu          sync.Mutex
	scripts     []*Script
	stop        chan struct{}
	stopped     sync.WaitGroup
	modules     string // the directory of module files (module.go), once made
	tempModules bool   // modules is the host's own temporary directory

	logs *pluginLogs // the last lines each domain's plugin wrote (logs.go)
}

// NewHost starts an engine for o.
func NewHost(ctx context.Context, o HostOptions) (*Host, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Counters == nil {
		c, err := NewCounters(o.Metrics)
		if err != nil {
			return nil, err
		}
		o.Counters = c
	}
	eng, err := wasmhost.NewEngine(ctx, wasmhost.Options{CacheDir: o.CacheDir, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	return &Host{engine: eng, o: o, logs: newPluginLogs(DefaultLogLines)}, nil
}

// Load compiles spec's plugin (or takes it from the cache), checks it
// against the ABI, grants it its capabilities and starts its warm
// instances, each running _initialize and hookd_v1_init under the
// plugin's limits. It is what `hookd serve` does for every .wasm domain
// script at start, and what `hookd plugin check` and `plugin run` do, so
// that all three judge a module the same way.
//
// # Notes
//
//   - Never on the event path: compiling can take a second.
//   - The error names the file and says what is wrong (ABI problems, a
//     memory declaration over memory_pages, an init that refuses, a key
//     file that cannot be read).
func (h *Host) Load(ctx context.Context, spec Spec) (*Script, error) {
	s, err := h.load(ctx, spec, loadOptions{count: h.o.Counters})
	if err != nil {
		return nil, err
	}
	s.ring = h.logs
	h.mu.Lock()
	h.scripts = append(h.scripts, s)
	h.mu.Unlock()
	return s, nil
}

// loadOptions are what Load and DryRun assemble differently.
type loadOptions struct {
	count     Counters                                        // where calls are counted
	intercept func(*http.Request) (*outbound.Response, error) // answers HTTP requests (hostfn.HTTPOptions.Intercept)
	moduleDir string                                          // where Module is written; "" the host's (module.go)
}

// load assembles a plugin from spec, for Load and DryRun: its file (or
// its bytes, written to a file), its limits, its grants, its instances.
// The script is not registered with the host (no reloads, no status).
func (h *Host) load(ctx context.Context, spec Spec, o loadOptions) (*Script, error) {
	name := spec.Path
	if spec.Module != nil {
		path, err := h.moduleFile(spec.Module, spec.SHA256, o.moduleDir)
		if err != nil {
			return nil, err
		}
		// The bytes are in the file now: do not keep them twice. The
		// file's path means nothing to the domain's owner, who uploaded
		// bytes: errors name the module by its SHA-256 instead.
		spec.Path, spec.Module = path, nil
		name = moduleName(path)
	}
	s, err := h.assemble(ctx, spec, o)
	if err != nil {
		if name != spec.Path {
			err = &renamed{err: err, path: spec.Path, name: name}
		}
		return nil, err
	}
	s.name = name
	return s, nil
}

func (h *Host) assemble(ctx context.Context, spec Spec, o loadOptions) (*Script, error) {
	if err := spec.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", spec.Path, err)
	}
	g, err := spec.Settings.grants(spec.Config, h.o.PrivateDir, h.o.UserAgent, o.intercept)
	if err != nil {
		return nil, err
	}
	p, err := h.engine.Load(ctx, spec.Path, spec.Settings.limits(), g)
	if err != nil {
		if g.HTTP != nil {
			g.HTTP.Close()
		}
		return nil, err
	}
	return &Script{spec: spec, p: p, http: g.HTTP, log: h.o.Logger, count: o.count}, nil
}

// Unload closes s, a plugin of this host, and forgets it: no more reloads,
// no more status. A domain whose plugin is replaced at run time (a stored
// version activated, a domain deleted) closes the old one with it once
// its deliveries have moved to the new handler. Calls still running on s
// finish, or are stopped when ctx ends.
func (h *Host) Unload(ctx context.Context, s *Script) error {
	h.mu.Lock()
	for i, x := range h.scripts {
		if x == s {
			h.scripts = append(h.scripts[:i:i], h.scripts[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	return s.close(ctx)
}

// Watch starts the host's background work, until Close: every interval,
// it reloads the plugin files that changed (an interval of 0 turns polling
// off; Reload still works). It also has the compilation cache pruned now,
// once the plugins are loaded (wasmhost.Engine.PruneSoon; the engine prunes
// again whenever a reload retires a version). Call it once every plugin is
// loaded.
func (h *Host) Watch(interval time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.scripts) == 0 || h.stop != nil {
		return
	}
	h.engine.PruneSoon()
	if interval <= 0 {
		return
	}
	h.stop = make(chan struct{})
	h.stopped.Add(1)
	go func(stop <-chan struct{}) {
		defer h.stopped.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = h.Reload(context.Background())
			}
		}
	}(h.stop)
}

// Reload looks at every plugin file; a changed, valid file replaces the
// running version atomically, a broken one is refused and logged, and the
// old version keeps serving.
//
// # Notes
//
//   - A file is read only when its size, mtime or inode changed
//     (wasmhost.Plugin.Reload): polling costs one stat per plugin.
//   - A refused file is logged, counted and returned once; it is not
//     tried again until it changes.
func (h *Host) Reload(ctx context.Context) error {
	h.mu.Lock()
	scripts := append([]*Script(nil), h.scripts...)
	h.mu.Unlock()
	var errs []error
	for _, s := range scripts {
		changed, err := s.p.Reload(ctx)
		switch {
		case err != nil:
			h.o.Logger.Error("plugin reload refused; the running version keeps serving",
				slog.String("domain", s.spec.Domain), slog.String("path", s.Path()), slog.Any("error", err))
			s.reloaded(false, err)
			errs = append(errs, fmt.Errorf("reload %s: %w", s.Path(), err))
		case changed:
			h.o.Logger.Info("plugin reloaded", slog.String("domain", s.spec.Domain), slog.String("path", s.Path()),
				slog.String("sha256", s.SHA256()))
			s.reloaded(true, nil)
		}
	}
	return errors.Join(errs...)
}

// Close stops watching, closes every plugin (calls running finish, or are
// stopped after 10 s) and the engine.
func (h *Host) Close() error {
	h.mu.Lock()
	stop := h.stop
	h.stop = nil
	scripts := h.scripts
	h.scripts = nil
	temp, modules := h.tempModules, h.modules
	h.mu.Unlock()
	if temp {
		defer os.RemoveAll(modules)
	}
	if stop != nil {
		close(stop)
		h.stopped.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range scripts {
		errs = append(errs, s.close(ctx))
	}
	errs = append(errs, h.engine.Close(ctx))
	return errors.Join(errs...)
}

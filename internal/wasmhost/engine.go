package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero"
)

// Options configures an [Engine].
type Options struct {
	// CacheDir, when set, keeps wazero's compiled code on disk there, so a
	// restart does not compile every plugin again. "" keeps it in memory
	// only.
	CacheDir string
	// Logger receives what happens outside calls: plugin log lines written
	// while an instance starts, failed replacements, reloads. nil discards.
	Logger *slog.Logger
}

// Defaults and bounds of [Limits].
const (
	DefaultMemoryPages = hostapi.DefaultMemoryPages
	DefaultTimeout     = hostapi.DefaultTimeout
	DefaultMaxReply    = hostapi.DefaultMaxReply
	DefaultInstances   = hostapi.DefaultInstances

	MaxMemoryPages = hostapi.MaxMemoryPages
	MaxInstances   = hostapi.MaxInstances
	MaxBinary      = hostapi.MaxBinary
)

// initTimeout bounds starting one instance (_initialize and hookd_v1_init).
const initTimeout = hostapi.InitTimeout

// Limits bound one plugin. Zero fields take their defaults.
type Limits struct {
	// MemoryPages is the most linear memory an instance may have, in 64 KiB
	// pages. Go guests need at least 64. Defaults to 256 (16 MiB).
	MemoryPages uint32
	// Timeout bounds one call; a shorter deadline of the caller's ctx wins.
	// Defaults to 250ms.
	Timeout time.Duration
	// MaxReply is the largest reply, in bytes. Defaults to 16 KiB.
	MaxReply int
	// Instances is the size of the warm pool: how many calls of the plugin
	// run at once. Defaults to 4.
	Instances int
}

func (l Limits) withDefaults() Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = DefaultMemoryPages
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxReply == 0 {
		l.MaxReply = DefaultMaxReply
	}
	if l.Instances == 0 {
		l.Instances = DefaultInstances
	}
	return l
}

func (l Limits) validate() error {
	switch {
	case l.MemoryPages > MaxMemoryPages:
		return fmt.Errorf("memory_pages must be at most %d (2 GiB), not %d", MaxMemoryPages, l.MemoryPages)
	case l.Timeout < time.Millisecond:
		return fmt.Errorf("timeout must be at least 1ms, not %s", l.Timeout)
	case l.MaxReply < 0:
		return fmt.Errorf("max_reply must not be negative, not %d", l.MaxReply)
	case l.Instances < 0 || l.Instances > MaxInstances:
		return fmt.Errorf("instances must be between 1 and %d, not %d", MaxInstances, l.Instances)
	}
	return nil
}

// Engine loads plugins and shares their compiled code. Make one per process
// with [NewEngine]; it is safe for concurrent use.
type Engine struct {
	cache  wazero.CompilationCache
	logger *slog.Logger

	mu      sync.Mutex
	plugins map[*Plugin]struct{}
	closed  bool
}

// NewEngine returns an Engine configured by o.
//
// # Notes
//
//   - With o.CacheDir, compiled code is written there and read back by
//     later processes; entries are specific to the wazero version. The
//     directory is created if missing.
func NewEngine(_ context.Context, o Options) (*Engine, error) {
	e := &Engine{logger: o.Logger, plugins: make(map[*Plugin]struct{})}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm compilation cache %q: %w", o.CacheDir, err)
		}
		e.cache = c
	} else {
		e.cache = wazero.NewCompilationCache()
	}
	return e, nil
}

// Close closes every plugin loaded by e (see [Plugin.Close]) and the
// compilation cache. After Close, Load fails with [ErrClosed].
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	ps := make([]*Plugin, 0, len(e.plugins))
	for p := range e.plugins {
		ps = append(ps, p)
	}
	e.mu.Unlock()
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.Close(ctx))
	}
	errs = append(errs, e.cache.Close(ctx))
	return errors.Join(errs...)
}

// runtimeConfig is the configuration of every plugin runtime: the compiler
// where wazero has one, deadlines that stop guest code, the plugin's memory
// limit, and the shared cache.
func (e *Engine) runtimeConfig(pages uint32) wazero.RuntimeConfig {
	return wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(pages).
		WithCompilationCache(e.cache)
}

func (e *Engine) add(p *Plugin) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.plugins[p] = struct{}{}
	return nil
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *Engine) forget(p *Plugin) {
	e.mu.Lock()
	delete(e.plugins, p)
	e.mu.Unlock()
}

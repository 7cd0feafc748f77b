package wasmhost

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero"
)

// Options configures an [Engine].
type Options struct {
	// CacheDir, when set, keeps wazero's compiled code on disk there, so a
	// restart does not compile every plugin again: one entry per binary,
	// pruned to what is in use (see [Engine.Prune]). "" keeps it in memory
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
	// pages. Go guests need at least 64. Each instance reserves address
	// space for the module's declared maximum, bounded by MemoryPages, so
	// that memory.grow never copies (see memory.go). Defaults to 256
	// (16 MiB).
	MemoryPages uint32
	// Timeout bounds one call, from the moment it asks to run: waiting
	// for a CPU slot and an instance counts. A shorter deadline of the
	// caller's ctx wins. Defaults to 250ms.
	Timeout time.Duration
	// MaxReply is the largest reply, in bytes. Defaults to 16 KiB.
	MaxReply int
	// Instances is the size of the warm pool. Defaults to 4.
	Instances int
	// Concurrency is how many calls of the plugin may run guest code at
	// once; the others wait for a slot within their deadline. Compiled
	// guest code holds its OS thread until it returns or its deadline
	// stops it, so a looping plugin must not be able to occupy every
	// processor. Defaults to half of GOMAXPROCS (at least 1), and is at
	// most Instances.
	Concurrency int
	// SHA256, when set, pins the binary: a file whose hex SHA-256 differs
	// is refused, at load and at every reload. Defaults to "" (any).
	SHA256 string
}

// DefaultConcurrency is [Limits.Concurrency]'s default: half the
// processors Go schedules goroutines on, at least one.
func DefaultConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

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
	if l.Concurrency == 0 {
		l.Concurrency = DefaultConcurrency()
	}
	l.Concurrency = min(l.Concurrency, max(l.Instances, 1))
	l.SHA256 = strings.ToLower(l.SHA256)
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
	case l.Concurrency < 0:
		return fmt.Errorf("concurrency must not be negative, not %d", l.Concurrency)
	}
	return ValidSHA256(l.SHA256)
}

// ValidSHA256 checks a pinned SHA-256: "" (no pin) or 64 hex digits.
func ValidSHA256(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 64 {
		return fmt.Errorf("sha256 must be 64 hex digits (sha256sum of the .wasm file), not %d characters", len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Errorf("sha256 must be 64 hex digits (sha256sum of the .wasm file), not %q", s)
	}
	return nil
}

// Engine loads plugins and shares their compiled code. Make one per process
// with [NewEngine]; it is safe for concurrent use.
type Engine struct {
	logger *slog.Logger

	// cacheDir, when set, holds one compilation cache entry per binary
	// (cache.go); otherwise mem is the one in-memory cache of every plugin.
	cacheDir string
	mem      wazero.CompilationCache
	// heapMemory makes instances allocate their linear memory as wazero
	// does by default (growing by copying), for benchmarks to compare.
	heapMemory bool
	// deadlines ends calls at their deadline (deadline.go); timerDeadlines
	// uses a context.WithTimeout per call instead, for benchmarks to
	// compare.
	deadlines      deadlines
	timerDeadlines bool
	// compiling serialises the compilations of one binary (compile.go).
	compiling [16]sync.Mutex

	mu          sync.Mutex
	plugins     map[*Plugin]struct{}
	entries     map[string]*cacheEntry // by SHA-256, while a version uses them
	closed      bool
	pruning     sync.Mutex    // one prune at a time
	manualPrune bool          // tests: PruneSoon does nothing, Prune runs only when called
	pruneReq    chan struct{} // PruneSoon's requests to the pruner goroutine
	pruneStop   chan struct{}
	pruneDone   chan struct{}
}

// NewEngine returns an Engine configured by o.
//
// # Notes
//
//   - With o.CacheDir, compiled code is written there and read back by
//     later processes, one entry per binary; entries are specific to the
//     wazero version. The directory is created if missing, and
//     [Engine.Prune] keeps it to what is in use (see cache.go).
func NewEngine(_ context.Context, o Options) (*Engine, error) {
	e := &Engine{logger: o.Logger, plugins: make(map[*Plugin]struct{}), entries: make(map[string]*cacheEntry)}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheDir != "" {
		dir, err := filepath.Abs(o.CacheDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
		if err != nil {
			return nil, fmt.Errorf("wasm compilation cache %q: %w", o.CacheDir, err)
		}
		e.cacheDir = dir
	} else {
		e.mem = wazero.NewCompilationCache()
	}
	return e, nil
}

// Close closes every plugin loaded by e (see [Plugin.Close]) and the
// compilation caches. After Close, Load fails with [ErrClosed].
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
	e.deadlines.close()
	e.mu.Lock()
	stop, done := e.pruneStop, e.pruneDone
	e.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	if e.mem != nil {
		errs = append(errs, e.mem.Close(ctx))
	}
	return errors.Join(errs...)
}

// runtimeConfig is the configuration of every plugin runtime: the compiler
// where wazero has one, deadlines that stop guest code, the plugin's memory
// limit, and its compilation cache.
//
// Memory capacity is not set here: WithMemoryCapacityFromMax would refuse
// a module whose declared maximum is over pages (today such a maximum is
// lowered to pages), and would put every instance's whole maximum on the
// Go heap. Instances reserve it as address space instead (memory.go).
func (e *Engine) runtimeConfig(pages uint32, cache wazero.CompilationCache) wazero.RuntimeConfig {
	return wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(pages).
		WithCompilationCache(cache)
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

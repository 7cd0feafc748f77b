package httpevents

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// PluginsID is the [plugins] section: settings shared by every plugin.
const PluginsID = "plugins"

// PluginsInfo registers the [plugins] section.
var PluginsInfo = hook.ModuleInfo{ID: PluginsID, New: func() hook.Module { return new(Plugins) }}

// Plugins is the [plugins] section.
type Plugins struct {
	// CacheDir keeps compiled plugins across restarts (wazero's compilation
	// cache). Resolved against the config file. Defaults to
	// "data/wasm-cache".
	CacheDir string `toml:"cache_dir"`
	// ReloadInterval is how often plugin files are checked for changes; 0
	// turns it off (SIGHUP still reloads). Defaults to 2s.
	ReloadInterval *hook.Duration `toml:"reload_interval"`
}

// Targets implements hook.Module: [plugins] only configures.
func (*Plugins) Targets() []hook.Target { return nil }

// Validate checks the reload interval.
func (p *Plugins) Validate() error {
	if p.ReloadInterval != nil && time.Duration(*p.ReloadInterval) != 0 && time.Duration(*p.ReloadInterval) < 100*time.Millisecond {
		return fmt.Errorf("reload_interval: must be 0 (off) or at least 100ms, got %s", *p.ReloadInterval)
	}
	return nil
}

func (p *Plugins) cacheDir() string {
	if p == nil || p.CacheDir == "" {
		return "data/wasm-cache"
	}
	return p.CacheDir
}

func (p *Plugins) reloadInterval() time.Duration {
	if p == nil || p.ReloadInterval == nil {
		return 2 * time.Second
	}
	return time.Duration(*p.ReloadInterval)
}

// PluginSettings are a .wasm script's limits and capabilities ([domain.plugin]).
// Zero values take the defaults of hostapi/ABI.md.
type PluginSettings struct {
	MemoryPages     uint32        `toml:"memory_pages"`
	Timeout         hook.Duration `toml:"timeout"`
	MaxReply        int           `toml:"max_reply"`
	Instances       int           `toml:"instances"`
	Keys            []string      `toml:"keys"`
	HTTPAllow       []string      `toml:"http_allow"`
	AllowPrivate    []string      `toml:"allow_private"`
	HTTPTimeout     hook.Duration `toml:"http_timeout"`
	HTTPMaxRequests int           `toml:"http_max_requests"`
	HTTPMaxResponse int64         `toml:"http_max_response"`
}

func (s *PluginSettings) empty() bool {
	return s.MemoryPages == 0 && s.Timeout == 0 && s.MaxReply == 0 && s.Instances == 0 && len(s.Keys) == 0 &&
		len(s.HTTPAllow) == 0 && len(s.AllowPrivate) == 0 && s.HTTPTimeout == 0 && s.HTTPMaxRequests == 0 && s.HTTPMaxResponse == 0
}

func (s *PluginSettings) limits() wasmhost.Limits {
	return wasmhost.Limits{MemoryPages: s.MemoryPages, Timeout: time.Duration(s.Timeout), MaxReply: s.MaxReply, Instances: s.Instances}
}

// validate checks ranges; the error starts with the key (the caller
// prefixes "plugin.").
func (s *PluginSettings) validate() error {
	var errs []error
	if s.MemoryPages != 0 && (s.MemoryPages < 2 || s.MemoryPages > wasmhost.MaxMemoryPages) {
		errs = append(errs, fmt.Errorf("memory_pages: must be between 2 and %d (64 KiB pages; Go plugins need at least 64), got %d", wasmhost.MaxMemoryPages, s.MemoryPages))
	}
	if t := time.Duration(s.Timeout); t != 0 && (t < time.Millisecond || t > time.Minute) {
		errs = append(errs, fmt.Errorf("timeout: must be between 1ms and 1m, got %s", t))
	}
	if s.MaxReply < 0 || s.MaxReply > 1<<20 {
		errs = append(errs, fmt.Errorf("max_reply: must be between 0 (default 16 KiB) and 1 MiB, got %d", s.MaxReply))
	}
	if s.Instances < 0 || s.Instances > wasmhost.MaxInstances {
		errs = append(errs, fmt.Errorf("instances: must be between 0 (default 4) and %d, got %d", wasmhost.MaxInstances, s.Instances))
	}
	if _, err := outbound.ParsePrefixes(s.AllowPrivate); err != nil {
		errs = append(errs, fmt.Errorf("allow_private: %w", err))
	}
	if s.HTTPMaxRequests < 0 || s.HTTPMaxResponse < 0 || s.HTTPTimeout < 0 {
		errs = append(errs, errors.New("http_timeout, http_max_requests and http_max_response must not be negative"))
	}
	for _, k := range s.Keys {
		if k == "" {
			errs = append(errs, errors.New("keys: a key name is empty"))
		}
	}
	return errors.Join(errs...)
}

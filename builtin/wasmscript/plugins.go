package wasmscript

import (
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// ID is the module ID of the [plugins] section: settings shared by every
// plugin.
const ID = "plugins"

// Info registers the [plugins] section.
var Info = hook.ModuleInfo{ID: ID, New: func() hook.Module { return new(Plugins) }}

// Defaults of the [plugins] section.
const (
	DefaultCacheDir       = "data/wasm-cache"
	DefaultReloadInterval = 2 * time.Second
)

// Plugins is the [plugins] section.
type Plugins struct {
	// CacheDir keeps compiled plugins across restarts (wazero's
	// compilation cache). Resolved against the config file. Defaults to
	// "data/wasm-cache".
	CacheDir string `toml:"cache_dir"`
	// ReloadInterval is how often plugin files are checked for changes; 0
	// turns it off (SIGHUP still reloads). Defaults to 2s.
	ReloadInterval *hook.Duration `toml:"reload_interval"`
}

var (
	_ hook.Module    = (*Plugins)(nil)
	_ hook.Validator = (*Plugins)(nil)
)

// Targets implements hook.Module: [plugins] only configures.
func (*Plugins) Targets() []hook.Target { return nil }

// Validate checks the reload interval.
func (p *Plugins) Validate() error {
	if p.ReloadInterval != nil && time.Duration(*p.ReloadInterval) != 0 && time.Duration(*p.ReloadInterval) < 100*time.Millisecond {
		return fmt.Errorf("reload_interval: must be 0 (off) or at least 100ms, got %s", *p.ReloadInterval)
	}
	return nil
}

// CacheDirOrDefault returns the cache directory, the default when p is nil
// (no [plugins] section) or leaves it unset.
func (p *Plugins) CacheDirOrDefault() string {
	if p == nil || p.CacheDir == "" {
		return DefaultCacheDir
	}
	return p.CacheDir
}

// ReloadIntervalOrDefault returns the reload interval, the default when p
// is nil or leaves it unset.
func (p *Plugins) ReloadIntervalOrDefault() time.Duration {
	if p == nil || p.ReloadInterval == nil {
		return DefaultReloadInterval
	}
	return time.Duration(*p.ReloadInterval)
}

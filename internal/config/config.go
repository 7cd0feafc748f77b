package config

import (
	"cmp"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Config is a loaded, defaulted, resolved and validated config.toml.
//
// Every section is optional: a key absent from the file keeps its default
// (see [Defaults]), and a key present with a zero value means that value
// (jitter = 0 turns jitter off; timeout = 0 is an error).
type Config struct {
	// Path is the file the config was loaded from, as given to [Load] or
	// [Parse]. Relative paths in the config are resolved against its
	// directory (see [Config.Resolve]).
	Path string `toml:"-"`

	Server   Server   `toml:"server"`
	Storage  Storage  `toml:"storage"`
	Store    Store    `toml:"store"`
	Delivery Delivery `toml:"delivery"`
	Log      Log      `toml:"log"`

	// Modules holds the decoded sections of registered modules, keyed by
	// module ID, which is also the section name ("jwt_webhook"). A module
	// whose section is absent is not in the map: that feature is off.
	// The map is never nil.
	Modules map[string]hook.Module `toml:"-"`
}

// Server is the [server] section: the daemon's HTTP API.
type Server struct {
	// Listen is the host:port the HTTP API binds to. A host that is not a
	// loopback address requires TokenFile. Defaults to "127.0.0.1:7700".
	Listen string `toml:"listen"`
	// TokenFile holds the bearer token of the HTTP API; required when
	// Listen is not a loopback address. Resolved against the config
	// file's directory. Defaults to "" (no token).
	TokenFile string `toml:"token_file"`
	// ServerID names this node in logs and in JWT claims. Defaults to the
	// host name (os.Hostname).
	ServerID string `toml:"server_id"`
}

// Storage is the [storage] section.
type Storage struct {
	// PrivateDir is the "Private" storage where key files live; key file
	// names in module sections are resolved inside it. Resolved against
	// the config file's directory. Defaults to "private".
	PrivateDir string `toml:"private_dir"`
}

// Store is the [store] section: the durable event and job store.
type Store struct {
	// Driver is "sqlite" (one node, embedded) or "postgres" (several nodes
	// sharing one database). Defaults to "sqlite".
	Driver string `toml:"driver"`
	// Path is the SQLite database file; ignored by postgres. Resolved
	// against the config file's directory. Defaults to "data/hookd.db".
	Path string `toml:"path"`
	// DSN is the PostgreSQL connection string; required by postgres.
	// Defaults to "".
	DSN string `toml:"dsn"`
}

// Delivery is the [delivery] section: how hard events are pushed to
// targets that fail.
type Delivery struct {
	// RetrySchedule is the wait before each retry after a failure; the
	// last step repeats until MaxAge. Defaults to 5s, 5m, 30m, 2h, 5h, 10h.
	RetrySchedule []Duration `toml:"retry_schedule"`
	// Jitter spreads each wait by up to ±Jitter of itself, in [0, 1).
	// Defaults to 0.2.
	Jitter float64 `toml:"jitter"`
	// Timeout bounds one delivery attempt. Defaults to 10s.
	Timeout Duration `toml:"timeout"`
	// MaxAge retires a delivery to the dead-letter list once its event is
	// this old; at least Timeout. Defaults to 72h.
	MaxAge Duration `toml:"max_age"`
	// Workers is how many deliveries run at once; one target may use at
	// most half. On SQLite, fewer workers than the event rate needs make
	// deliveries queue (see docs/benchmarks.md). Defaults to 500.
	Workers int `toml:"workers"`
	// RetryAfterCap caps a receiver's Retry-After hint. Defaults to 10h.
	RetryAfterCap Duration `toml:"retry_after_cap"`
	// BreakerThreshold is how many consecutive failures open a target's
	// circuit breaker. Defaults to 5.
	BreakerThreshold int `toml:"breaker_threshold"`
	// BreakerCooldown is how long an open breaker waits before letting one
	// attempt through; it doubles while the target keeps failing, capped
	// at 10m. Defaults to 30s.
	BreakerCooldown Duration `toml:"breaker_cooldown"`
	// PollInterval is how often workers look for due jobs, between 10ms
	// and 10s. River itself accepts down to 1ms (FetchPollIntervalMin) but
	// requires it to be no shorter than its FetchCooldown (100ms by
	// default), so the runtime must set FetchCooldown to at most this
	// value; 10ms is hookd's own floor, to keep an idle node from hammering
	// its database. Defaults to 50ms.
	PollInterval Duration `toml:"poll_interval"`
}

// Log is the [log] section.
type Log struct {
	// Level is the least severe level logged: debug, info, warn or error.
	// Defaults to "info".
	Level string `toml:"level"`
	// Format is "text" or "json". Defaults to "text".
	Format string `toml:"format"`
}

// Defaults returns the config an empty file yields, before relative paths
// are resolved. It is the documentation of every default; [Parse] starts
// from the same values.
func Defaults() Config {
	var c Config
	c.withDefaults()
	return c
}

// withDefaults fills every zero field with its default. It is the only
// place defaults live. Parse calls it before decoding, so that what the
// file sets, zero values included, overrides the defaults.
func (c *Config) withDefaults() {
	s := &c.Server
	s.Listen = cmp.Or(s.Listen, "127.0.0.1:7700")
	if s.ServerID == "" {
		s.ServerID, _ = os.Hostname() // on failure validate reports it empty
	}

	c.Storage.PrivateDir = cmp.Or(c.Storage.PrivateDir, "private")

	c.Store.Driver = cmp.Or(c.Store.Driver, DriverSQLite)
	c.Store.Path = cmp.Or(c.Store.Path, "data/hookd.db")

	d := &c.Delivery
	if d.RetrySchedule == nil {
		d.RetrySchedule = []Duration{
			Duration(5 * time.Second), Duration(5 * time.Minute),
			Duration(30 * time.Minute), Duration(2 * time.Hour),
			Duration(5 * time.Hour), Duration(10 * time.Hour),
		}
	}
	d.Jitter = cmp.Or(d.Jitter, 0.2)
	d.Timeout = cmp.Or(d.Timeout, Duration(10*time.Second))
	d.MaxAge = cmp.Or(d.MaxAge, Duration(72*time.Hour))
	d.Workers = cmp.Or(d.Workers, 500)
	d.RetryAfterCap = cmp.Or(d.RetryAfterCap, Duration(10*time.Hour))
	d.BreakerThreshold = cmp.Or(d.BreakerThreshold, 5)
	d.BreakerCooldown = cmp.Or(d.BreakerCooldown, Duration(30*time.Second))
	d.PollInterval = cmp.Or(d.PollInterval, Duration(50*time.Millisecond))

	c.Log.Level = cmp.Or(c.Log.Level, "info")
	c.Log.Format = cmp.Or(c.Log.Format, "text")

	if c.Modules == nil {
		c.Modules = map[string]hook.Module{}
	}
}

// The values of [Store].Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Resolve returns p resolved against the directory of the config file, the
// way the loader resolves storage.private_dir, store.path and
// server.token_file. Modules use it for their own paths. An empty p stays
// empty and an absolute p stays as it is.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// resolvePaths resolves the core sections' relative paths, once.
func (c *Config) resolvePaths() {
	c.Server.TokenFile = c.Resolve(c.Server.TokenFile)
	c.Storage.PrivateDir = c.Resolve(c.Storage.PrivateDir)
	c.Store.Path = c.Resolve(c.Store.Path)
}

// ListenIsLoopback reports whether server.listen binds to a loopback
// address only (127.0.0.0/8, ::1 or "localhost"), so that the HTTP API
// needs no token. It is false when listen is not a valid host:port, and
// for an empty host (":7700", all interfaces).
func (c *Config) ListenIsLoopback() bool {
	host, _, err := net.SplitHostPort(c.Server.Listen)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

package runtime

import (
	"cmp"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Config is hookd's configuration: the core sections below, and the
// sections of the modules (the JWT webhook, HTTP events, the External
// WebAPI, …) in Modules. [LoadConfig] and [ParseConfig] return one
// decoded, defaulted, resolved and validated; a proxy may also build one
// in Go, starting from [DefaultConfig].
//
//	cfg := hookrt.DefaultConfig()
//	cfg.Store.Path = "/var/lib/proxy/hookd.db"
//	cfg.Modules[jwtwebhook.ID] = &jwtwebhook.Webhook{URL: "https://hooks.example/isl", PrivateKey: "webhook.pem",
//		Events: jwtwebhook.Events{UserCreate: true}}
//
// # Notes
//
//   - A Config is never modified by [Open] or [Check], which build fresh
//     module values from it each time: check a config, then open it, or
//     open it twice in turn.
//   - Every section is optional in the file: a key absent keeps its
//     default, and a key present with a zero value means that value
//     (jitter = 0 turns jitter off; timeout = 0 is an error).
type Config struct {
	// Path is the file the config was loaded from ("" when parsed from
	// data or built in Go). Errors name it.
	Path string `toml:"-"`
	// Dir is the directory relative paths of the file were resolved
	// against: the file's own directory for [LoadConfig], the dir given to
	// [ParseConfig]. Modules resolve their own paths against it too ("":
	// the working directory).
	Dir string `toml:"-"`

	Server    ServerConfig    `toml:"server"`
	Storage   StorageConfig   `toml:"storage"`
	Store     StoreConfig     `toml:"store"`
	Delivery  DeliveryConfig  `toml:"delivery"`
	Retention RetentionConfig `toml:"retention"`
	Log       LogConfig       `toml:"log"`
	Metrics   MetricsConfig   `toml:"metrics"`
	Tracing   TracingConfig   `toml:"tracing"`
	Domains   DomainsConfig   `toml:"domains"`

	// Modules holds the module sections, keyed by module ID, which is also
	// the section name ("jwt_webhook"). A module whose section is absent
	// is not in the map: that feature is off. Each value is the section's
	// config; the runtime provisions a fresh copy of it on every start.
	Modules map[string]hook.Module `toml:"-"`

	// sources maps each dotted key the file or the environment set to
	// where it came from (see [Config.Source]); nil for a config built
	// in Go.
	sources map[string]string
	// arrays maps each table or array key above a key the file or the
	// environment set to where it came from: the source of an entry of
	// an array set whole (config_sources.go).
	arrays map[string]string
	// keys are the keys of the file in order, for reporting problems
	// found later (provisioning) in file order; nil for a config built
	// in Go.
	keys []string
}

// ServerConfig is the [server] section: the daemon's HTTP API.
type ServerConfig struct {
	// Listen is the host:port the HTTP API binds to. A host that is not a
	// loopback address requires TokenFile. Defaults to "127.0.0.1:7700".
	Listen string `toml:"listen"`
	// TokenFile holds the bearer token of the HTTP API; required when
	// Listen is not a loopback address. Resolved against the config
	// file's directory. Defaults to "" (no token).
	TokenFile string `toml:"token_file"`
	// ServerID names this node in logs, in events (SERVERID) and in JWT
	// claims; at most 255 bytes. Defaults to the host name (os.Hostname).
	ServerID string `toml:"server_id"`
	// PublicListen is a second host:port that serves only what receivers
	// and load balancers need — the JWKS (/.well-known/jwks.json) and the
	// health checks (/healthz, /livez, /readyz) — and never /v1/, so it
	// may face the internet without a token. Defaults to "" (none).
	PublicListen string `toml:"public_listen"`
}

// StorageConfig is the [storage] section.
type StorageConfig struct {
	// PrivateDir is the "Private" storage where key files live; key file
	// names in module sections are resolved inside it. Resolved against
	// the config file's directory. Defaults to "private".
	PrivateDir string `toml:"private_dir"`
}

// StoreConfig is the [store] section: the durable event and job store.
type StoreConfig struct {
	// Driver is "sqlite" (one node, embedded) or "postgres" (several nodes
	// sharing one database). Defaults to "sqlite".
	Driver string `toml:"driver"`
	// Path is the SQLite database file; ignored by postgres. Resolved
	// against the config file's directory. Defaults to "data/hookd.db".
	Path string `toml:"path"`
	// DSN is the PostgreSQL connection string; postgres needs it, from
	// here, from DSNFile or from the HOOKD_STORE_DSN environment variable
	// (which [LoadConfig] and [ParseConfig] put here, over the file's).
	// Defaults to "".
	DSN string `toml:"dsn"`
	// DSNFile is a file holding the DSN (its password kept out of the
	// config file), read when the store opens: mode 0600 or stricter, like
	// a key file. Resolved against the config file's directory; at most
	// one of DSN and DSNFile. Defaults to "".
	DSNFile string `toml:"dsn_file"`
	// Synchronous is what a SQLite commit waits for: "normal" (the commit
	// survives a crash of hookd, not a power loss or an OS crash) or
	// "full" (it survives those too, for a sync to disk per commit).
	// Ignored by postgres, whose commits are durable. Defaults to
	// "normal": "full" costs two thirds of the ingest rate of concurrent
	// callers on SQLite (docs/benchmarks.md).
	Synchronous string `toml:"synchronous"`
	// CacheSize is SQLite's page cache, in bytes, 256 KiB to 16 GiB: memory
	// hookd keeps once it has filled it, so it counts in the RSS (at 64
	// MiB, hookd's fixed size before, it was most of a node's growth
	// from 35 to 163 MB at 200 events/s). Ignored by postgres. Defaults
	// to 4 MiB (0 in the file: the default), which holds the pages a
	// delivery writes (rows and indexes grow at their right edge); a
	// larger cache serves API listings of old deliveries from memory
	// instead of the kernel's page cache.
	CacheSize int64 `toml:"cache_size"`
	// MmapSize is how much of the SQLite file is read through a memory
	// map, in bytes, 0 to 1 TiB. Ignored by postgres. Defaults to 0 (no
	// map): a page read through the map counts in hookd's RSS for as
	// long as the kernel keeps it, so a scan of the whole file (a large
	// listing, a prune) would bring the file into the RSS.
	MmapSize int64 `toml:"mmap_size"`
}

// The values of [StoreConfig].Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DeliveryConfig is the [delivery] section: how hard events are pushed to
// targets that fail.
type DeliveryConfig struct {
	// RetrySchedule is the wait before each retry after a failure; the
	// last step repeats until MaxAge. Defaults to 5s, 5m, 30m, 2h, 5h, 10h.
	RetrySchedule []hook.Duration `toml:"retry_schedule"`
	// Jitter spreads each wait by up to ±Jitter of itself, in [0, 1).
	// Defaults to 0.2.
	Jitter float64 `toml:"jitter"`
	// Timeout bounds one delivery attempt. Defaults to 10s.
	Timeout hook.Duration `toml:"timeout"`
	// MaxAge retires a delivery to the dead-letter list once its event is
	// this old; at least Timeout. 0 never gives up: a delivery is retried
	// on the schedule until it succeeds or an operator discards it, as the
	// proxy retries a strict script "indefinitely" (it and its event are
	// kept meanwhile: retention never prunes a pending delivery). Defaults
	// to 72h (absent from the file; an explicit 0 is kept).
	MaxAge hook.Duration `toml:"max_age"`
	// Workers is how many deliveries run at once; one target may use at
	// most half. On SQLite, fewer workers than the event rate needs make
	// deliveries queue (see docs/benchmarks.md). Defaults to 500.
	Workers int `toml:"workers"`
	// RetryAfterCap caps a receiver's Retry-After hint. Defaults to 10h.
	RetryAfterCap hook.Duration `toml:"retry_after_cap"`
	// BreakerThreshold is how many consecutive failures open a target's
	// circuit breaker. Defaults to 5.
	BreakerThreshold int `toml:"breaker_threshold"`
	// BreakerCooldown caps how long an open breaker waits before letting
	// one attempt (a probe) through. The wait is the retry schedule's step
	// for the breaker's openings in a row (the first step when it opens,
	// the next after each failed probe), so a receiver that comes back is
	// found within the schedule's current step or this cap. Defaults to
	// 30s.
	BreakerCooldown hook.Duration `toml:"breaker_cooldown"`
	// PollInterval is how often workers look for due jobs, between 10ms
	// and 10s. River itself accepts down to 1ms but requires it to be no
	// shorter than its FetchCooldown, which the engine sets to at most this
	// value; 10ms is hookd's own floor, to keep an idle node from
	// hammering its database. Defaults to 50ms.
	PollInterval hook.Duration `toml:"poll_interval"`
	// DisableAfter disables a target that has failed every attempt for
	// this long (at least 1m), on every node; its deliveries then go to
	// the dead-letter list until an operator enables it. It is announced to
	// the command sink when [commands] is set. 0 never disables. Defaults
	// to 0.
	DisableAfter hook.Duration `toml:"disable_after"`
	// Proxy is the egress proxy ("http://host:port" or
	// "https://host:port", CONNECT) of every target whose own delivery
	// settings name none; a target's proxy = "direct" opts out. For
	// operators whose receivers accept only fixed egress addresses. A
	// domain's script still passes the SSRF guard: hookd resolves and
	// checks the destination before asking the proxy, and dials the proxy
	// through the guard too. Defaults to "" (direct connections).
	Proxy string `toml:"proxy"`
}

// RetentionConfig is the [retention] section: how long delivery history
// is kept. A pending or retrying delivery, and its event, are never
// pruned, however old.
type RetentionConfig struct {
	// Keep is how long a delivered or discarded delivery is kept after it
	// became so, with its attempts; an event goes once every delivery of it
	// may go, with its session record. 0 keeps them for ever. Defaults to
	// 720h (30 days).
	Keep hook.Duration `toml:"keep"`
	// Dead is how long a dead letter is kept after it died. 0 means as
	// long as Keep. Defaults to 0.
	Dead hook.Duration `toml:"dead"`
	// Idempotency is how long an Idempotency-Key (EmitWithKey) is
	// remembered: a repeat within it returns the first event. At least 1m.
	// Defaults to 24h.
	Idempotency hook.Duration `toml:"idempotency"`
	// Interval is how often pruning runs (on one node: River's leader),
	// 1s to 24h. Defaults to 10m.
	Interval hook.Duration `toml:"interval"`
}

// dead is how long dead letters are kept.
func (r RetentionConfig) dead() time.Duration {
	if r.Dead == 0 {
		return time.Duration(r.Keep)
	}
	return time.Duration(r.Dead)
}

// MetricsConfig is the [metrics] section: Prometheus metrics, served at
// GET /metrics on the API listener (with the API's token, if it has one)
// and by [Runtime.Metrics].
type MetricsConfig struct {
	// PerTarget labels delivery metrics with the target's name, and plugin
	// metrics with the domain, beside the target's kind. With many domains
	// that is a series per domain. Defaults to false.
	PerTarget bool `toml:"per_target"`
	// Listen is a host:port serving only GET /metrics, without a token,
	// for a scraper that cannot send one. Defaults to "" (none).
	Listen string `toml:"listen"`
}

// TracingConfig is the [tracing] section: OpenTelemetry traces, sent over
// OTLP/HTTP or written to stdout. Off unless Exporter is "stdout" or
// "otlp", Endpoint is set, or the standard OTEL_EXPORTER_OTLP_ENDPOINT /
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variable is. When on, [Open]
// installs the process's global tracer provider and W3C trace-context
// propagator, so a program that embeds hookd and has its own tracing
// leaves this off.
type TracingConfig struct {
	// Exporter is where spans go: "otlp" (OTLP/HTTP, to Endpoint or to
	// what the OTEL_EXPORTER_OTLP_* variables say), "stdout" (one JSON
	// line per span on standard output, no collector needed) or "none"
	// (off, whatever the environment says). Defaults to "" (otlp when an
	// endpoint is set, here or in the environment; else off).
	Exporter string `toml:"exporter"`
	// Endpoint is the OTLP/HTTP traces endpoint, e.g.
	// "http://otel-collector:4318/v1/traces". Defaults to "" (off).
	Endpoint string `toml:"endpoint"`
	// Headers are sent with every export, e.g. an authorization header
	// of a hosted collector. Defaults to none.
	Headers map[string]string `toml:"headers"`
	// SampleRatio is the share of new traces recorded, 0 to 1; a trace
	// that comes in with a sampled parent is always recorded. Defaults to
	// 1.
	SampleRatio float64 `toml:"sample_ratio"`
	// ServiceName is the service.name of the spans. Defaults to the
	// OTEL_SERVICE_NAME variable, else "hookd".
	ServiceName string `toml:"service_name"`
}

// The values of [TracingConfig].Exporter.
const (
	ExporterOTLP   = "otlp"
	ExporterStdout = "stdout"
	ExporterNone   = "none"
)

// exporter is the exporter in use: ExporterOTLP, ExporterStdout or "" (off).
func (t TracingConfig) exporter() string {
	switch t.Exporter {
	case ExporterStdout, ExporterOTLP:
		return t.Exporter
	case ExporterNone:
		return ""
	}
	if t.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return ExporterOTLP
	}
	return ""
}

// Enabled reports whether traces are recorded and exported (see
// [TracingConfig]): the daemon then starts a span per API request.
func (t TracingConfig) Enabled() bool { return t.exporter() != "" }

// DomainsConfig is the [domains] section: bounds on what domain owners
// store through the API (domains as data, their plugin versions, their
// tokens). TOML [[domain]] entries are not bound by it.
type DomainsConfig struct {
	// MaxPluginSize is the largest plugin module a domain may upload, in
	// bytes, 1 KiB to 256 MiB. Defaults to 8 MiB (a Go plugin built with
	// TinyGo is a few hundred KiB; one built with Go, a few MiB).
	MaxPluginSize int64 `toml:"max_plugin_size"`
	// MaxPluginVersions is how many plugin versions a domain may keep, 1
	// to 1000; a push beyond it is refused until an unused one is
	// deleted. Defaults to 10.
	MaxPluginVersions int `toml:"max_plugin_versions"`
	// TokenMaxTTL bounds the life of a domain token: a token asked for
	// without an expiry gets this one, and a longer one is refused. At
	// least 1m; 0 lets tokens live until revoked. Defaults to 0.
	TokenMaxTTL hook.Duration `toml:"token_max_ttl"`
}

// Defaults of [DomainsConfig].
const (
	defaultMaxPluginSize     = 8 << 20
	defaultMaxPluginVersions = 10
)

// withDefaults fills a [domains] section built in Go with zero values.
func (d DomainsConfig) withDefaults() DomainsConfig {
	d.MaxPluginSize = cmp.Or(d.MaxPluginSize, defaultMaxPluginSize)
	d.MaxPluginVersions = cmp.Or(d.MaxPluginVersions, defaultMaxPluginVersions)
	return d
}

// LogConfig is the [log] section.
type LogConfig struct {
	// Level is the least severe level logged: debug, info, warn or error.
	// Defaults to "info".
	Level string `toml:"level"`
	// Format is "text" or "json". Defaults to "text".
	Format string `toml:"format"`
}

// NewLogger returns a logger writing to w at the configured level, as text
// or JSON: what the daemon logs with. A proxy that has a logger of its own
// passes that to [WithLogger] instead.
func (l LogConfig) NewLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level)) // checked by Validate
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// DefaultConfig returns the config an empty file yields: every default,
// no module, paths relative to the working directory. It is the
// documentation of every default, and where a config built in Go starts.
func DefaultConfig() *Config {
	c := &Config{}
	c.withDefaults()
	return c
}

// withDefaults fills every zero field with its default. It is the only
// place defaults live. Parsing calls it before decoding, so that what the
// file sets, zero values included, overrides the defaults.
func (c *Config) withDefaults() {
	s := &c.Server
	s.Listen = cmp.Or(s.Listen, "127.0.0.1:7700")
	if s.ServerID == "" {
		s.ServerID, _ = os.Hostname() // on failure Validate reports it empty
	}

	c.Storage.PrivateDir = cmp.Or(c.Storage.PrivateDir, "private")

	c.Store.Driver = cmp.Or(c.Store.Driver, DriverSQLite)
	c.Store.Path = cmp.Or(c.Store.Path, "data/hookd.db")
	c.Store.Synchronous = cmp.Or(c.Store.Synchronous, "normal")
	c.Store.CacheSize = cmp.Or(c.Store.CacheSize, store.DefaultCacheSize)

	r := &c.Retention
	r.Keep = cmp.Or(r.Keep, hook.Duration(720*time.Hour))
	r.Idempotency = cmp.Or(r.Idempotency, hook.Duration(24*time.Hour))
	r.Interval = cmp.Or(r.Interval, hook.Duration(10*time.Minute))

	d := &c.Delivery
	if d.RetrySchedule == nil {
		d.RetrySchedule = []hook.Duration{
			hook.Duration(5 * time.Second), hook.Duration(5 * time.Minute),
			hook.Duration(30 * time.Minute), hook.Duration(2 * time.Hour),
			hook.Duration(5 * time.Hour), hook.Duration(10 * time.Hour),
		}
	}
	d.Jitter = cmp.Or(d.Jitter, 0.2)
	d.Timeout = cmp.Or(d.Timeout, hook.Duration(10*time.Second))
	d.MaxAge = cmp.Or(d.MaxAge, hook.Duration(72*time.Hour))
	d.Workers = cmp.Or(d.Workers, 500)
	d.RetryAfterCap = cmp.Or(d.RetryAfterCap, hook.Duration(10*time.Hour))
	d.BreakerThreshold = cmp.Or(d.BreakerThreshold, 5)
	d.BreakerCooldown = cmp.Or(d.BreakerCooldown, hook.Duration(30*time.Second))
	d.PollInterval = cmp.Or(d.PollInterval, hook.Duration(50*time.Millisecond))

	c.Domains = c.Domains.withDefaults()

	c.Log.Level = cmp.Or(c.Log.Level, "info")
	c.Log.Format = cmp.Or(c.Log.Format, "text")

	c.Tracing.SampleRatio = cmp.Or(c.Tracing.SampleRatio, 1)
	c.Tracing.ServiceName = cmp.Or(c.Tracing.ServiceName, os.Getenv("OTEL_SERVICE_NAME"), "hookd")

	if c.Modules == nil {
		c.Modules = map[string]hook.Module{}
	}
}

// Resolve returns p resolved against [Config].Dir, the way the loader
// resolves storage.private_dir, store.path and server.token_file. Modules
// use it for their own paths. An empty p stays empty and an absolute p
// stays as it is.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// resolvePaths resolves the core sections' relative paths, once.
func (c *Config) resolvePaths() {
	c.Server.TokenFile = c.Resolve(c.Server.TokenFile)
	c.Storage.PrivateDir = c.Resolve(c.Storage.PrivateDir)
	c.Store.Path = c.Resolve(c.Store.Path)
	c.Store.DSNFile = c.Resolve(c.Store.DSNFile)
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

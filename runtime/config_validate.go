package runtime

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/store"
)

// Limits that Validate enforces.
const (
	maxRetryStep    = 30 * 24 * time.Hour
	minTimeout      = 100 * time.Millisecond
	maxTimeout      = 5 * time.Minute
	maxWorkers      = 1000
	minPollInterval = 10 * time.Millisecond // hookd's floor; River's is 1ms
	maxPollInterval = 10 * time.Second
	maxServerID     = 255
)

// coreSections are the sections of [Config] itself.
var coreSections = []string{"server", "storage", "store", "delivery", "retention", "log", "metrics", "tracing", "domains"}

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate checks the core sections, then every module that implements
// [hook.Validator], and reports every problem it finds, joined, each
// naming the file and the key. It does no I/O and does not change c.
// [LoadConfig], [ParseConfig], [Open] and [Check] call it; a proxy that
// builds its config in Go may call it first to report problems early.
func (c *Config) Validate() error {
	return config.JoinErrors(c.name(), c.problems())
}

// problems are what Validate reports, not joined, for parseConfig to sort
// them with the problems of decoding.
func (c *Config) problems() []error {
	v := config.Validator{File: c.name()}

	s := c.Server
	if host, port, err := net.SplitHostPort(s.Listen); err != nil || !isPort(port) {
		v.Add("server.listen", "must be host:port with a numeric port, got %q", s.Listen)
	} else if s.TokenFile == "" && !isLoopbackHost(host) {
		v.Add("server.token_file", "required when server.listen is not a loopback address (%s); the HTTP API needs a bearer token", s.Listen)
	}
	if s.PublicListen != "" {
		if _, port, err := net.SplitHostPort(s.PublicListen); err != nil || !isPort(port) {
			v.Add("server.public_listen", "must be host:port with a numeric port, got %q", s.PublicListen)
		} else if s.PublicListen == s.Listen {
			v.Add("server.public_listen", "must differ from server.listen (%s)", s.Listen)
		}
	}
	if s.ServerID == "" {
		v.Add("server.server_id", "must not be empty")
	} else if len(s.ServerID) > maxServerID || hook.CheckFieldValue(hook.FieldServerID, s.ServerID) != nil {
		v.Add("server.server_id", "must be at most %d bytes of UTF-8 text, got %d bytes", maxServerID, len(s.ServerID))
	}

	if c.Storage.PrivateDir == "" {
		v.Add("storage.private_dir", "must not be empty")
	}

	switch st := c.Store; st.Driver {
	case DriverSQLite:
		if st.Path == "" {
			v.Add("store.path", "required when store.driver is %q", DriverSQLite)
		}
	case DriverPostgres:
		switch {
		case st.DSN != "" && st.DSNFile != "":
			v.Add("store.dsn_file", "set store.dsn or store.dsn_file, not both")
		case st.DSN == "" && st.DSNFile == "":
			v.Add("store.dsn", "required when store.driver is %q (or store.dsn_file, or the %s environment variable)", DriverPostgres, EnvStoreDSN)
		}
	default:
		v.Add("store.driver", "must be %q or %q, got %q", DriverSQLite, DriverPostgres, st.Driver)
	}
	if sy := c.Store.Synchronous; sy != "" && sy != "normal" && sy != "full" { // "": normal, for a section built in Go
		v.Add("store.synchronous", "must be \"normal\" or \"full\", got %q", sy)
	}
	if n := c.Store.CacheSize; n != 0 && (n < store.MinCacheSize || n > store.MaxCacheSize) { // 0: the default
		v.Add("store.cache_size", "must be between %d (256 KiB) and %d (16 GiB) bytes (0: the default, %d), got %d",
			store.MinCacheSize, store.MaxCacheSize, store.DefaultCacheSize, n)
	}
	if n := c.Store.MmapSize; n < 0 || n > store.MaxMmapSize {
		v.Add("store.mmap_size", "must be between 0 (no memory map, the default) and %d (1 TiB) bytes, got %d", store.MaxMmapSize, n)
	}

	d := c.Delivery
	if len(d.RetrySchedule) == 0 {
		v.Add("delivery.retry_schedule", "must not be empty")
	}
	for i, step := range d.RetrySchedule {
		if step <= 0 || time.Duration(step) > maxRetryStep {
			v.Add(fmt.Sprintf("delivery.retry_schedule[%d]", i), "must be more than 0s and at most %s (30 days), got %s", hook.Duration(maxRetryStep), step)
		}
	}
	if !(d.Jitter >= 0 && d.Jitter < 1) { // also rejects nan
		v.Add("delivery.jitter", "must be at least 0 and less than 1, got %v", d.Jitter)
	}
	if t := time.Duration(d.Timeout); t < minTimeout || t > maxTimeout {
		v.Add("delivery.timeout", "must be between %s and %s, got %s", hook.Duration(minTimeout), hook.Duration(maxTimeout), d.Timeout)
	}
	if d.MaxAge < 0 || (d.MaxAge != 0 && d.MaxAge < d.Timeout) { // 0: never give up
		v.Add("delivery.max_age", "must be 0 (never give up) or at least delivery.timeout (%s), got %s", d.Timeout, d.MaxAge)
	}
	if d.Workers < 1 || d.Workers > maxWorkers {
		v.Add("delivery.workers", "must be between 1 and %d, got %d", maxWorkers, d.Workers)
	}
	if d.RetryAfterCap <= 0 {
		v.Add("delivery.retry_after_cap", "must be more than 0s, got %s", d.RetryAfterCap)
	}
	if d.BreakerThreshold < 1 {
		v.Add("delivery.breaker_threshold", "must be at least 1, got %d", d.BreakerThreshold)
	}
	if d.BreakerCooldown <= 0 {
		v.Add("delivery.breaker_cooldown", "must be more than 0s, got %s", d.BreakerCooldown)
	}
	if p := time.Duration(d.PollInterval); p < minPollInterval || p > maxPollInterval {
		v.Add("delivery.poll_interval", "must be between %s and %s, got %s", hook.Duration(minPollInterval), hook.Duration(maxPollInterval), d.PollInterval)
	}

	if d.DisableAfter != 0 && time.Duration(d.DisableAfter) < time.Minute {
		v.Add("delivery.disable_after", "must be 0 (never) or at least 1m, got %s", d.DisableAfter)
	}
	if err := delivery.CheckProxy(d.Proxy); err != nil { // the rule of a target's delivery.proxy
		v.Add("delivery.proxy", "%v", err)
	}

	r := c.Retention
	if r.Keep != 0 && time.Duration(r.Keep) < time.Hour {
		v.Add("retention.keep", "must be 0 (keep for ever) or at least 1h, got %s", r.Keep)
	}
	if r.Dead != 0 && time.Duration(r.Dead) < time.Hour {
		v.Add("retention.dead", "must be 0 (as retention.keep) or at least 1h, got %s", r.Dead)
	}
	if time.Duration(r.Idempotency) < time.Minute {
		v.Add("retention.idempotency", "must be at least 1m, got %s", r.Idempotency)
	}
	if i := time.Duration(r.Interval); i < time.Second || i > 24*time.Hour {
		v.Add("retention.interval", "must be between 1s and 24h, got %s", r.Interval)
	}

	if l := c.Metrics.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || !isPort(port) {
			v.Add("metrics.listen", "must be host:port with a numeric port, got %q", l)
		} else if l == s.Listen || l == s.PublicListen {
			v.Add("metrics.listen", "must differ from server.listen and server.public_listen, got %q", l)
		}
	}
	if t := c.Tracing; t.Endpoint != "" {
		if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.Add("tracing.endpoint", "must be an http:// or https:// URL of an OTLP/HTTP traces endpoint, got %q", t.Endpoint)
		}
	}
	if e := c.Tracing.Exporter; e != "" && e != ExporterOTLP && e != ExporterStdout && e != ExporterNone {
		v.Add("tracing.exporter", "must be %q, %q or %q, got %q", ExporterOTLP, ExporterStdout, ExporterNone, e)
	}
	if r := c.Tracing.SampleRatio; !(r >= 0 && r <= 1) {
		v.Add("tracing.sample_ratio", "must be between 0 and 1, got %v", r)
	}
	for k := range c.Tracing.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			v.Add("tracing.headers", "header name %q is not valid", k)
		}
	}

	if n := c.Domains.MaxPluginSize; n != 0 && (n < 1<<10 || n > 256<<20) {
		v.Add("domains.max_plugin_size", "must be between 1024 (1 KiB) and 268435456 (256 MiB) bytes (0: the default, 8 MiB), got %d", n)
	}
	if n := c.Domains.MaxPluginVersions; n < 0 || n > 1000 {
		v.Add("domains.max_plugin_versions", "must be between 1 and 1000 (0: the default, 10), got %d", n)
	}
	if t := c.Domains.TokenMaxTTL; t != 0 && time.Duration(t) < time.Minute {
		v.Add("domains.token_max_ttl", "must be 0 (tokens live until revoked) or at least 1m, got %s", t)
	}

	if !slices.Contains(logLevels, c.Log.Level) {
		v.Add("log.level", "must be one of %s; got %q", strings.Join(logLevels, ", "), c.Log.Level)
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		v.Add("log.format", "must be %q or %q, got %q", logFormats[0], logFormats[1], c.Log.Format)
	}

	for _, id := range c.moduleIDs() {
		m := c.Modules[id]
		if slices.Contains(coreSections, id) {
			v.Add("["+id+"]", "module ID %q is taken by a core section (%s)", id, strings.Join(coreSections, ", "))
			continue
		}
		if !isModuleValue(m) {
			v.Add("["+id+"]", "the module's config must be a non-nil pointer, got %T", m)
			continue
		}
		if offReason(m) != "" {
			continue // off: nothing of it runs (see switchable)
		}
		if mv, ok := m.(hook.Validator); ok {
			v.Module(id, mv.Validate())
		}
	}
	return v.Errs()
}

// Warnings returns what is valid in c but probably not what the operator
// meant, from modules that implement [hook.Warner]: `hookd check` prints
// them and Open logs them.
func (c *Config) Warnings() []string {
	lookup := func(id string) (hook.Module, bool) { m, ok := c.Modules[id]; return m, ok }
	var out []string
	for _, id := range c.moduleIDs() {
		if offReason(c.Modules[id]) != "" {
			continue // Off says so
		}
		if w, ok := c.Modules[id].(hook.Warner); ok {
			for _, msg := range w.Warnings(lookup) {
				out = append(out, c.name()+": ["+id+"]: "+msg)
			}
		}
	}
	return out
}

// switchable is a module section that can be present and off, as the
// proxy's sections with every switch off are: [jwt_webhook] with no event
// on, [http_events] with neither script, [webapi] with no use. Off says
// why it is off, or "" when it is on. An off section is valid whatever
// else it holds, and is not provisioned: nothing of it runs.
type switchable interface{ Off() string }

// offReason is why module section m is off, or "".
func offReason(m hook.Module) string {
	if s, ok := m.(switchable); ok && isModuleValue(m) {
		return s.Off()
	}
	return ""
}

// offMessage is the one line that says a section is off.
func offMessage(id, why string) string {
	return "[" + id + "] is off: " + why
}

// Off lists the module sections of c that are present but off, one line
// each ("[webapi] is off: none of signup, notification, forgot_password is
// on"): `hookd check` prints them, and Open logs each once.
func (c *Config) Off() []string {
	var out []string
	for _, id := range c.moduleIDs() {
		if why := offReason(c.Modules[id]); why != "" {
			out = append(out, offMessage(id, why))
		}
	}
	return out
}

// moduleIDs returns the IDs of c's modules, sorted, so that errors and
// routing are deterministic.
func (c *Config) moduleIDs() []string {
	ids := make([]string, 0, len(c.Modules))
	for id := range c.Modules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// isPort reports whether s is a port number, 0 to 65535.
func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

package runtime

import (
	"github.com/hookrt/hookd/hook"

	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestParseEmptyIsDefaults(t *testing.T) {
	t.Parallel()
	c, err := parse("")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	d := c.Delivery
	for _, check := range []struct {
		key       string
		got, want any
	}{
		{"server.listen", c.Server.Listen, "127.0.0.1:7700"},
		{"server.token_file", c.Server.TokenFile, ""},
		{"server.server_id", c.Server.ServerID, host},
		{"storage.private_dir", c.Storage.PrivateDir, "private"},
		{"store.driver", c.Store.Driver, "sqlite"},
		{"store.path", c.Store.Path, filepath.Join("data", "hookd.db")},
		{"store.dsn", c.Store.DSN, ""},
		{"domains", c.Domains, DomainsConfig{MaxPluginSize: 8 << 20, MaxPluginVersions: 10}},
		{"delivery.retry_schedule", d.RetrySchedule, durations(5*time.Second, 5*time.Minute, 30*time.Minute, 2*time.Hour, 5*time.Hour, 10*time.Hour)},
		{"delivery.jitter", d.Jitter, 0.2},
		{"delivery.timeout", d.Timeout, hook.Duration(10 * time.Second)},
		{"delivery.max_age", d.MaxAge, hook.Duration(72 * time.Hour)},
		{"delivery.workers", d.Workers, 500},
		{"delivery.retry_after_cap", d.RetryAfterCap, hook.Duration(10 * time.Hour)},
		{"delivery.breaker_threshold", d.BreakerThreshold, 5},
		{"delivery.breaker_cooldown", d.BreakerCooldown, hook.Duration(30 * time.Second)},
		{"delivery.poll_interval", d.PollInterval, hook.Duration(50 * time.Millisecond)},
		{"delivery.disable_after", d.DisableAfter, hook.Duration(0)},
		{"delivery.proxy", d.Proxy, ""},
		{"store.synchronous", c.Store.Synchronous, "normal"},
		{"store.cache_size", c.Store.CacheSize, int64(4 << 20)},
		{"store.mmap_size", c.Store.MmapSize, int64(0)},
		{"retention.keep", c.Retention.Keep, hook.Duration(720 * time.Hour)},
		{"retention.dead", c.Retention.Dead, hook.Duration(0)},
		{"retention.idempotency", c.Retention.Idempotency, hook.Duration(24 * time.Hour)},
		{"retention.interval", c.Retention.Interval, hook.Duration(10 * time.Minute)},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"modules", len(c.Modules), 0},
		{"loopback", c.ListenIsLoopback(), true},
	} {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s = %v, want %v", check.key, check.got, check.want)
		}
	}

	want := *DefaultConfig()
	want.Path, want.Dir = "config.toml", "."
	got := *c
	got.sources = nil // an empty file sets nothing: every key is a default
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseAs(\"\") = %+v\nDefaults() = %+v", got, want)
	}
	if src := c.Source("server.listen"); src != SourceDefault {
		t.Errorf("an empty file: server.listen comes from %q, want %q", src, SourceDefault)
	}
}

func durations(ds ...time.Duration) []hook.Duration {
	out := make([]hook.Duration, len(ds))
	for i, d := range ds {
		out[i] = hook.Duration(d)
	}
	return out
}

// fullConfig sets every key of every core section, and the fake modules.
const fullConfig = `
[server]
listen = "0.0.0.0:8800"
token_file = "secrets/token"
server_id = "node-1"
public_listen = "0.0.0.0:8443"

[storage]
private_dir = "/var/lib/hookd/private"

[store]
driver = "sqlite"
path = "hookd.db"
dsn = "postgres://hookd@db/hookd"
dsn_file = "secrets/dsn"
synchronous = "full"
cache_size = 2097152
mmap_size = 67108864

[delivery]
retry_schedule = ["1s", 60, "1h30m"]
jitter = 0
timeout = 30
max_age = "24h"
workers = 8
retry_after_cap = "1h"
breaker_threshold = 3
breaker_cooldown = "1m"
poll_interval = "200ms"
disable_after = "120h"
proxy = "http://egress.example:3128"

[retention]
keep = "48h"
dead = "240h"
idempotency = "1h"
interval = "30s"

[log]
level = "debug"
format = "json"

[metrics]
per_target = true
listen = "127.0.0.1:9700"

[tracing]
exporter = "otlp"
endpoint = "https://otel.example.com/v1/traces"
headers = { authorization = "Bearer t" }
sample_ratio = 0.25
service_name = "hookd-eu"

[domains]
max_plugin_size = 1048576
max_plugin_versions = 3
token_max_ttl = "720h"

[fake_hook]
url = "https://example.com/hook"
enabled = true
claims = { iss = "hookd", nested = { rid = 7 } }

[fake_hook.events]
a = true

[[fake_domain]]
id = "acme"
script = "plugins/acme.wasm"

[[fake_domain]]
id = "globex"
`

func TestParseFull(t *testing.T) {
	t.Parallel()
	c, err := parseAs("/etc/hookd/config.toml", []byte(fullConfig), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	d := c.Delivery
	for _, check := range []struct {
		key       string
		got, want any
	}{
		{"server.listen", c.Server.Listen, "0.0.0.0:8800"},
		{"server.token_file", c.Server.TokenFile, "/etc/hookd/secrets/token"},
		{"server.server_id", c.Server.ServerID, "node-1"},
		{"storage.private_dir", c.Storage.PrivateDir, "/var/lib/hookd/private"},
		{"server.public_listen", c.Server.PublicListen, "0.0.0.0:8443"},
		{"store.driver", c.Store.Driver, "sqlite"},
		{"store.path", c.Store.Path, "/etc/hookd/hookd.db"},
		{"store.dsn", c.Store.DSN, "postgres://hookd@db/hookd"},
		{"store.dsn_file", c.Store.DSNFile, "/etc/hookd/secrets/dsn"},
		{"metrics", c.Metrics, MetricsConfig{PerTarget: true, Listen: "127.0.0.1:9700"}},
		{"tracing", c.Tracing, TracingConfig{Exporter: "otlp", Endpoint: "https://otel.example.com/v1/traces",
			Headers: map[string]string{"authorization": "Bearer t"}, SampleRatio: 0.25, ServiceName: "hookd-eu"}},
		{"domains", c.Domains, DomainsConfig{MaxPluginSize: 1 << 20, MaxPluginVersions: 3, TokenMaxTTL: hook.Duration(720 * time.Hour)}},
		{"delivery.retry_schedule", d.RetrySchedule, durations(time.Second, time.Minute, 90*time.Minute)},
		{"delivery.jitter", d.Jitter, 0.0},
		{"delivery.timeout", d.Timeout, hook.Duration(30 * time.Second)},
		{"delivery.max_age", d.MaxAge, hook.Duration(24 * time.Hour)},
		{"delivery.workers", d.Workers, 8},
		{"delivery.retry_after_cap", d.RetryAfterCap, hook.Duration(time.Hour)},
		{"delivery.breaker_threshold", d.BreakerThreshold, 3},
		{"delivery.breaker_cooldown", d.BreakerCooldown, hook.Duration(time.Minute)},
		{"delivery.poll_interval", d.PollInterval, hook.Duration(200 * time.Millisecond)},
		{"delivery.disable_after", d.DisableAfter, hook.Duration(120 * time.Hour)},
		{"delivery.proxy", d.Proxy, "http://egress.example:3128"},
		{"store.synchronous", c.Store.Synchronous, "full"},
		{"store.cache_size", c.Store.CacheSize, int64(2 << 20)},
		{"store.mmap_size", c.Store.MmapSize, int64(64 << 20)},
		{"retention.keep", c.Retention.Keep, hook.Duration(48 * time.Hour)},
		{"retention.dead", c.Retention.Dead, hook.Duration(240 * time.Hour)},
		{"retention.idempotency", c.Retention.Idempotency, hook.Duration(time.Hour)},
		{"retention.interval", c.Retention.Interval, hook.Duration(30 * time.Second)},
		{"log.level", c.Log.Level, "debug"},
		{"log.format", c.Log.Format, "json"},
		{"loopback", c.ListenIsLoopback(), false},
		{"fake_hook", c.Modules["fake_hook"], &fakeHook{
			URL:     "https://example.com/hook",
			Enabled: true,
			Claims:  map[string]any{"iss": "hookd", "nested": map[string]any{"rid": int64(7)}},
			Events: struct {
				A bool `toml:"a"`
			}{A: true},
		}},
		{"fake_domain", c.Modules["fake_domain"], &fakeDomains{
			{ID: "acme", Script: "plugins/acme.wasm"},
			{ID: "globex"},
		}},
	} {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s = %#v, want %#v", check.key, check.got, check.want)
		}
	}
}

// TestFullConfigCoversEveryKey keeps fullConfig (and so TestParseFull) in
// step with the core structs.
func TestFullConfigCoversEveryKey(t *testing.T) {
	t.Parallel()
	md, err := toml.Decode(fullConfig, new(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range tomlFields(reflect.TypeFor[Config]()) {
		if section.Type.Kind() != reflect.Struct {
			continue
		}
		name := section.Tag.Get("toml")
		if !slices.Contains(coreSections, name) {
			t.Errorf("Config field %s is not in coreSections", name)
		}
		for _, key := range tomlFields(section.Type) {
			if !md.IsDefined(name, key.Tag.Get("toml")) {
				t.Errorf("fullConfig does not set %s.%s", name, key.Tag.Get("toml"))
			}
		}
	}
}

// tomlFields returns the fields of struct t that TOML decodes.
func tomlFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && f.Tag.Get("toml") != "-" {
			out = append(out, f)
		}
	}
	return out
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		input string
		check func(c *Config) any // returns what differs, or nil
	}{
		{"integer duration is seconds", "[delivery]\ntimeout = 30\n", func(c *Config) any {
			return want(c.Delivery.Timeout, hook.Duration(30*time.Second))
		}},
		{"explicit zero jitter is kept", "[delivery]\njitter = 0\n", func(c *Config) any {
			return want(c.Delivery.Jitter, 0.0)
		}},
		{"integer max_age is seconds", "[delivery]\njitter = 0\nmax_age = 3600\n", func(c *Config) any {
			return want(c.Delivery.MaxAge, hook.Duration(time.Hour))
		}},
		{"max_age 0 means never give up", "[delivery]\nmax_age = \"0\"\n", func(c *Config) any {
			return want(c.Delivery.MaxAge, hook.Duration(0))
		}},
		{"ipv6 loopback needs no token", "[server]\nlisten = '[::1]:7700'\n", func(c *Config) any {
			return want(c.ListenIsLoopback(), true)
		}},
		{"localhost needs no token", "[server]\nlisten = 'localhost:0'\n", func(c *Config) any {
			return want(c.ListenIsLoopback(), true)
		}},
		{"non-loopback with token", "[server]\nlisten = '0.0.0.0:7700'\ntoken_file = 'token'\n", func(c *Config) any {
			return want(c.Server.TokenFile, "token")
		}},
		{"postgres ignores an empty path", "[store]\ndriver = 'postgres'\ndsn = 'postgres://db'\npath = ''\n", func(c *Config) any {
			return want(c.Store.Path, "")
		}},
		{"absent module is off", "[fake_hook]\nurl = 'http://x'\n", func(c *Config) any {
			_, on := c.Modules["fake_domain"]
			return want(on, false)
		}},
		{"claims as a string", "[fake_hook]\nurl = 'http://x'\nclaims = '{\"iss\":\"x\"}'\n", func(c *Config) any {
			return want(c.Modules["fake_hook"].(*fakeHook).Claims, any(`{"iss":"x"}`))
		}},
		{"claims as a nested table", "[fake_hook]\nurl = 'http://x'\n[fake_hook.claims.a]\nb = 1\n", func(c *Config) any {
			return want(c.Modules["fake_hook"].(*fakeHook).Claims, any(map[string]any{"a": map[string]any{"b": int64(1)}}))
		}},
		{"UTF-8 BOM", "\ufeff[log]\nlevel = 'warn'\n", func(c *Config) any {
			return want(c.Log.Level, "warn")
		}},
		{"comments and blank lines", "# hookd\n\n[log] # the log\nlevel = 'error' # quiet\n", func(c *Config) any {
			return want(c.Log.Level, "error")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse(tc.input)
			if err != nil {
				t.Fatalf("parseAs(%q): %v", tc.input, err)
			}
			if diff := tc.check(c); diff != nil {
				t.Error(diff)
			}
		})
	}
}

// want returns nil when got equals want, else a description.
func want(got, want any) any {
	if reflect.DeepEqual(got, want) {
		return nil
	}
	return struct{ Got, Want any }{got, want}
}

package runtime

import (
	"github.com/hookrt/hookd/internal/config"

	"errors"
	"fmt"
	"strings"
	"testing"
)

// badConfigs are inputs Parse must refuse, each with its exact error.
// Inputs are also fuzzing seeds.
var badConfigs = []struct {
	name  string
	input string
	want  string
}{
	// Syntax.
	{"syntax error", "[server]\nlisten = = 1\n",
		`config.toml:2:10: expected value but found '=' instead`},
	{"syntax error at line start", "[server]\n= 1\n",
		`config.toml:2:1: unexpected '=': key name appears blank`},
	{"duplicate key", "[log]\nlevel = 'info'\nlevel = 'debug'\n",
		`config.toml:3:1: Key 'log.level' has already been defined.`},
	{"line break in toml's message", "[log]\nlevel = 0b\n",
		`config.toml:2:9: not a binary number: '0b\n'`},
	{"unterminated string", "[log]\nlevel = \"info\n",
		`config.toml:2:14: strings cannot contain newlines`},

	// Unknown sections and keys.
	{"unknown section", "[bogus]\nx = 1\n",
		`config.toml: unknown section "bogus"; allowed sections: server, storage, store, delivery, retention, log, metrics, tracing, domains, fake_domain, fake_hook`},
	{"unknown top-level key", "bogus = 1\n",
		`config.toml: unknown top-level key "bogus"; allowed sections: server, storage, store, delivery, retention, log, metrics, tracing, domains, fake_domain, fake_hook`},
	{"unknown key in core section", "[server]\nlisten_addr = '127.0.0.1:1'\n",
		`config.toml: unknown key "server.listen_addr"; allowed in [server]: listen, token_file, server_id, public_listen`},
	{"key differing only in case", "[server]\nListen = '127.0.0.1:1'\n",
		`config.toml: unknown key "server.Listen"; allowed in [server]: listen, token_file, server_id, public_listen`},
	{"unknown key in module section", "[fake_hook]\nurll = 'http://x'\n",
		`config.toml: unknown key "fake_hook.urll"; allowed in [fake_hook]: url, enabled, claims, events` + "\n" +
			`config.toml: [fake_hook]: url: required`},
	// Issue 16: four mistakes of four kinds, every one reported, in file
	// order, although two are found by decoding and two by validation.
	{"four mistakes of four kinds", "[delivery]\njitter = 'lots'\nworkerz = 3\ntimeout = '0s'\n[log]\nlevel = 'loud'\n",
		"config.toml: delivery.jitter: wrong type: want a number, got a string\n" +
			`config.toml: unknown key "delivery.workerz"; allowed in [delivery]: retry_schedule, jitter, timeout, max_age, workers, retry_after_cap, breaker_threshold, breaker_cooldown, poll_interval, disable_after, proxy` + "\n" +
			"config.toml: delivery.timeout: must be between 100ms and 5m, got 0s\n" +
			`config.toml: log.level: must be one of debug, info, warn, error; got "loud"`},
	{"a wrong type in a module beside a bad core value", "[fake_hook]\nurl = 7\n[delivery]\nworkers = 0\n",
		"config.toml: fake_hook.url: wrong type: want a string, got an integer\n" +
			"config.toml: delivery.workers: must be between 1 and 1000, got 0"},
	{"unknown nested key", "[fake_hook]\nurl = 'http://x'\n[fake_hook.events]\na = true\nb = true\n",
		`config.toml: unknown key "fake_hook.events.b"; allowed in [fake_hook.events]: a`},
	{"unknown nested table reported once", "[fake_hook.bogus]\nx = 1\ny = 2\n",
		`config.toml: unknown key "fake_hook.bogus"; allowed in [fake_hook]: url, enabled, claims, events` + "\n" +
			`config.toml: [fake_hook]: url: required`},
	{"unknown dotted key", "[fake_hook]\nurl = 'http://x'\nevents.b.c = 1\n",
		`config.toml: unknown key "fake_hook.events.b"; allowed in [fake_hook.events]: a`},
	{"unknown key in array of tables", "[[fake_domain]]\nid = 'a'\nbogus = 1\n",
		`config.toml: unknown key "fake_domain.bogus"; allowed in [[fake_domain]]: id, script`},
	{"key under a scalar", "[delivery]\njitter.x = 1\n",
		`config.toml: delivery.jitter: wrong type: want a number, got a table`},

	// Wrong types.
	{"string for number", "[delivery]\njitter = '0.1'\n",
		`config.toml: delivery.jitter: wrong type: want a number, got a string`},
	{"float for integer", "[delivery]\nworkers = 1.5\n",
		`config.toml: delivery.workers: wrong type: want an integer, got a float`},
	{"number for bool", "[fake_hook]\nurl = 'http://x'\nenabled = 1\n",
		`config.toml: fake_hook.enabled: wrong type: want a boolean (true or false), got an integer`},
	{"array for string", "[server]\nlisten = ['127.0.0.1:1']\n",
		`config.toml: server.listen: wrong type: want a string, got an array`},
	{"string for array", "[delivery]\nretry_schedule = '5s'\n",
		`config.toml: delivery.retry_schedule: wrong type: want an array, got a string`},
	{"value for section", "server = 1\n",
		`config.toml: server: wrong type: want a table, got an integer`},
	{"array of tables for section", "[[server]]\n",
		`config.toml: server: wrong type: want a table, got an array of tables`},
	{"bool for duration", "[delivery]\ntimeout = true\n",
		`config.toml: delivery.timeout: wrong type: want a duration (a string like "5s" or "1h30m", or a whole number of seconds), got a boolean`},
	{"float for duration", "[delivery]\ntimeout = 1.5\n",
		`config.toml: delivery.timeout: wrong type: want a duration (a string like "5s" or "1h30m", or a whole number of seconds), got a float`},

	{"two wrong types in one section, in file order", "[delivery]\nworkers = 'many'\nmax_age = ''\njitter = 'x'\ntimeout = ''\n",
		"config.toml: delivery.workers: wrong type: want an integer, got a string\n" +
			`config.toml: delivery.max_age: invalid duration "": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds` + "\n" +
			"config.toml: delivery.jitter: wrong type: want a number, got a string\n" +
			`config.toml: delivery.timeout: invalid duration "": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`},
	{"wrong types in nested tables and arrays of tables", "[fake_hook]\nurl = 1\n[fake_hook.events]\na = 'yes'\n[[fake_domain]]\nid = 1\n[[fake_domain]]\nscript = true\n",
		"config.toml: fake_hook.url: wrong type: want a string, got an integer\n" +
			"config.toml: fake_hook.events.a: wrong type: want a boolean (true or false), got a string\n" +
			"config.toml: fake_domain.id: wrong type: want a string, got an integer\n" +
			"config.toml: fake_domain.script: wrong type: want a string, got a boolean"},
	{"wrong type under a case-insensitive key", "[log]\nLevel = 1\n",
		"config.toml: log.Level: wrong type: want a string, got an integer"},
	{"wrong types in an inline table", "[fake_hook]\nevents = { a = 1 }\n",
		"config.toml: fake_hook.events.a: wrong type: want a boolean (true or false), got an integer"},

	// Durations.
	{"negative duration string", "[delivery]\ntimeout = '-5s'\n",
		`config.toml: delivery.timeout: must not be negative, got -5s`},
	{"negative duration seconds", "[delivery]\ntimeout = -5\n",
		`config.toml: delivery.timeout: must not be negative, got -5`},
	{"bad duration string", "[delivery]\ntimeout = '5 sec'\n",
		`config.toml: delivery.timeout: invalid duration "5 sec": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`},
	{"duration string without unit", "[delivery]\ntimeout = '5'\n",
		`config.toml: delivery.timeout: invalid duration "5": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`},
	{"duration seconds overflow", "[delivery]\nmax_age = 9300000000\n",
		`config.toml: delivery.max_age: must be at most 9223372036 seconds, got 9300000000`},
	{"bad duration in array", "[delivery]\nretry_schedule = ['5s', 'soon']\n",
		`config.toml: delivery.retry_schedule: invalid duration "soon": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`},

	// Invalid values.
	{"jitter 1.5", "[delivery]\njitter = 1.5\n",
		`config.toml: delivery.jitter: must be at least 0 and less than 1, got 1.5`},
	{"jitter nan", "[delivery]\njitter = nan\n",
		`config.toml: delivery.jitter: must be at least 0 and less than 1, got NaN`},
	{"timeout 0", "[delivery]\ntimeout = 0\n",
		`config.toml: delivery.timeout: must be between 100ms and 5m, got 0s`},
	{"timeout too long", "[delivery]\ntimeout = '6m'\n",
		`config.toml: delivery.timeout: must be between 100ms and 5m, got 6m`},
	{"max_age below timeout", "[delivery]\ntimeout = '1m'\nmax_age = 30\n",
		`config.toml: delivery.max_age: must be 0 (never give up) or at least delivery.timeout (1m), got 30s`},
	{"negative max_age", "[delivery]\nmax_age = \"-1h\"\n",
		`config.toml: delivery.max_age: must not be negative, got -1h`},
	{"empty retry schedule", "[delivery]\nretry_schedule = []\n",
		`config.toml: delivery.retry_schedule: must not be empty`},
	{"retry step 0 and over 30 days", "[delivery]\nretry_schedule = ['5s', 0, '721h']\n",
		"config.toml: delivery.retry_schedule[1]: must be more than 0s and at most 720h (30 days), got 0s\n" +
			"config.toml: delivery.retry_schedule[2]: must be more than 0s and at most 720h (30 days), got 721h"},
	{"workers 0", "[delivery]\nworkers = 0\n",
		`config.toml: delivery.workers: must be between 1 and 1000, got 0`},
	{"workers 1001", "[delivery]\nworkers = 1001\n",
		`config.toml: delivery.workers: must be between 1 and 1000, got 1001`},
	{"retry_after_cap 0", "[delivery]\nretry_after_cap = 0\n",
		`config.toml: delivery.retry_after_cap: must be more than 0s, got 0s`},
	{"breaker_threshold 0", "[delivery]\nbreaker_threshold = 0\n",
		`config.toml: delivery.breaker_threshold: must be at least 1, got 0`},
	{"breaker_cooldown 0", "[delivery]\nbreaker_cooldown = '0s'\n",
		`config.toml: delivery.breaker_cooldown: must be more than 0s, got 0s`},
	{"store cache_size too small", "[store]\ncache_size = 1024\n",
		`config.toml: store.cache_size: must be between 262144 (256 KiB) and 17179869184 (16 GiB) bytes (0: the default, 4194304), got 1024`},
	{"store mmap_size negative", "[store]\nmmap_size = -1\n",
		`config.toml: store.mmap_size: must be between 0 (no memory map, the default) and 1099511627776 (1 TiB) bytes, got -1`},
	{"store cache_size not a number", "[store]\ncache_size = '8MiB'\n",
		`config.toml: store.cache_size: wrong type: want an integer, got a string`},
	{"poll_interval too short", "[delivery]\npoll_interval = '1ms'\n",
		`config.toml: delivery.poll_interval: must be between 10ms and 10s, got 1ms`},
	{"driver mysql", "[store]\ndriver = 'mysql'\n",
		`config.toml: store.driver: must be "sqlite" or "postgres", got "mysql"`},
	{"postgres without dsn", "[store]\ndriver = 'postgres'\n",
		`config.toml: store.dsn: required when store.driver is "postgres" (or store.dsn_file, or the HOOKD_STORE_DSN environment variable)`},
	{"dsn and dsn_file", "[store]\ndriver = 'postgres'\ndsn = 'postgres://h/db'\ndsn_file = 'dsn'\n",
		`config.toml: store.dsn_file: set store.dsn or store.dsn_file, not both`},
	{"public_listen without a port", "[server]\npublic_listen = '0.0.0.0'\n",
		`config.toml: server.public_listen: must be host:port with a numeric port, got "0.0.0.0"`},
	{"public_listen is listen", "[server]\nlisten = '127.0.0.1:7700'\npublic_listen = '127.0.0.1:7700'\n",
		`config.toml: server.public_listen: must differ from server.listen (127.0.0.1:7700)`},
	{"metrics listen is listen", "[metrics]\nlisten = '127.0.0.1:7700'\n",
		`config.toml: metrics.listen: must differ from server.listen and server.public_listen, got "127.0.0.1:7700"`},
	{"tracing endpoint not a URL", "[tracing]\nendpoint = 'collector:4318'\n",
		`config.toml: tracing.endpoint: must be an http:// or https:// URL of an OTLP/HTTP traces endpoint, got "collector:4318"`},
	{"tracing sample ratio", "[tracing]\nsample_ratio = 1.5\n",
		`config.toml: tracing.sample_ratio: must be between 0 and 1, got 1.5`},
	{"sqlite without path", "[store]\npath = ''\n",
		`config.toml: store.path: required when store.driver is "sqlite"`},
	{"non-loopback listen without token_file", "[server]\nlisten = '0.0.0.0:7700'\n",
		`config.toml: server.token_file: required when server.listen is not a loopback address (0.0.0.0:7700); the HTTP API needs a bearer token`},
	{"all-interfaces listen without token_file", "[server]\nlisten = ':7700'\n",
		`config.toml: server.token_file: required when server.listen is not a loopback address (:7700); the HTTP API needs a bearer token`},
	{"listen without port", "[server]\nlisten = 'localhost'\n",
		`config.toml: server.listen: must be host:port with a numeric port, got "localhost"`},
	{"listen with named port", "[server]\nlisten = '127.0.0.1:http'\n",
		`config.toml: server.listen: must be host:port with a numeric port, got "127.0.0.1:http"`},
	{"listen port out of range", "[server]\nlisten = '127.0.0.1:65536'\n",
		`config.toml: server.listen: must be host:port with a numeric port, got "127.0.0.1:65536"`},
	{"empty server_id", "[server]\nserver_id = ''\n",
		`config.toml: server.server_id: must not be empty`},
	{"empty private_dir", "[storage]\nprivate_dir = ''\n",
		`config.toml: storage.private_dir: must not be empty`},
	{"log level", "[log]\nlevel = 'verbose'\n",
		`config.toml: log.level: must be one of debug, info, warn, error; got "verbose"`},
	{"log format", "[log]\nformat = 'xml'\n",
		`config.toml: log.format: must be "text" or "json", got "xml"`},

	// Several at once, and modules.
	{"two errors at once", "[delivery]\njitter = 1.5\nworkers = 0\n[log]\nlevel = 'loud'\n",
		"config.toml: delivery.jitter: must be at least 0 and less than 1, got 1.5\n" +
			"config.toml: delivery.workers: must be between 1 and 1000, got 0\n" +
			`config.toml: log.level: must be one of debug, info, warn, error; got "loud"`},
	{"wrong type and unknown key in two sections", "[server]\nlisten = 1\n[log]\nlevl = 'info'\n",
		"config.toml: server.listen: wrong type: want a string, got an integer\n" +
			`config.toml: unknown key "log.levl"; allowed in [log]: level, format`},
	{"module Validate error", "[fake_hook]\nenabled = true\n",
		`config.toml: [fake_hook]: url: required`},
	{"module Validate joined errors", "[[fake_domain]]\nscript = 'a'\n[[fake_domain]]\nid = 'b'\n[[fake_domain]]\n",
		"config.toml: [fake_domain]: [0] id: required\n" +
			"config.toml: [fake_domain]: [2] id: required"},
	{"core and module errors together", "[delivery]\ntimeout = 0\n[fake_hook]\n",
		"config.toml: delivery.timeout: must be between 100ms and 5m, got 0s\n" +
			"config.toml: [fake_hook]: url: required"},
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse(tc.input)
			if err == nil {
				t.Fatalf("parseAs(%q) = %+v, want error\n%s", tc.input, c, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("parseAs(%q) error:\n got: %s\nwant: %s", tc.input, got, tc.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			var e *config.Error
			if !errors.As(err, &e) || e.File != "config.toml" {
				t.Errorf("errors.As(*Error) = %v, %+v; want File config.toml", e != nil, e)
			}
		})
	}
}

func TestErrorNamesFileAsGiven(t *testing.T) {
	t.Parallel()
	_, err := parseAs("/etc/hookd/hookd.toml", []byte("[log]\nlevel = 1\n"), nil)
	want := "/etc/hookd/hookd.toml: log.level: wrong type: want a string, got an integer"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = parseAs("hookd.toml", []byte("[fake_hook]\n"), nil) // nil registry: no modules
	want = `hookd.toml: unknown section "fake_hook"; allowed sections: server, storage, store, delivery, retention, log, metrics, tracing, domains`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestParseRejectsLargeFile(t *testing.T) {
	t.Parallel()
	data := []byte("# " + strings.Repeat("x", config.MaxSize) + "\n")
	_, err := parseAs("config.toml", data, nil)
	want := "config.toml: file is larger than 1048576 bytes (1 MiB)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestParseCapsErrors(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("[log]\n")
	for i := range 50 + 10 {
		fmt.Fprintf(&b, "k%d = 1\n", i)
	}
	_, err := parse(b.String())
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 50+1 || lines[50] != "config.toml: 10 more errors" {
		t.Errorf("got %d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	if want := `config.toml: unknown key "log.k0"; allowed in [log]: level, format`; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
}

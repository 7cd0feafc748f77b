package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin"
	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
)

// TestEnvSetsEveryKey (issue 16, point 7): any key can come from
// HOOKD_<SECTION>_<KEY>, over the file; Source says where each value came
// from; the client's variables and unrelated HOOKD_ ones are ignored, an
// empty one is unset, and HOOKD_STORE_DSN still replaces dsn_file.
func TestEnvSetsEveryKey(t *testing.T) {
	t.Parallel()
	file := "[server]\nlisten = \"127.0.0.1:7000\"\n[store]\ndriver = \"postgres\"\ndsn_file = \"dsn\"\n[log]\nlevel = \"warn\"\n"
	env := []string{
		"HOOKD_SERVER_LISTEN=127.0.0.1:7001",
		"HOOKD_DELIVERY_RETRY_SCHEDULE=1s, 5s",
		"HOOKD_DELIVERY_JITTER=0",
		"HOOKD_DELIVERY_WORKERS=7",
		"HOOKD_METRICS_PER_TARGET=true",
		"HOOKD_TRACING_HEADERS={ authorization = \"Bearer x\" }",
		"HOOKD_STORE_DSN=postgres://db/hookd",
		"HOOKD_JWT_WEBHOOK_URL=https://hooks.example/",
		"HOOKD_JWT_WEBHOOK_PRIVATE_KEY=webhook.pem",
		"HOOKD_JWT_WEBHOOK_EVENTS_USER_CREATE=true",
		"HOOKD_LOG_FORMAT=",                   // empty: unset
		"HOOKD_CONFIG=/etc/hookd/config.toml", // the client's
		"HOOKD_TOKEN=x",
		"HOOKD_TEST_POSTGRES_DSN=postgres://x",
		"PATH=/usr/bin",
	}
	c, errs := parseConfigAll("config.toml", "/etc/hookd", []byte(file), builtin.Registry(), env)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	d := c.Delivery
	if c.Server.Listen != "127.0.0.1:7001" || len(d.RetrySchedule) != 2 || d.RetrySchedule[1] != hook.Duration(5*time.Second) ||
		d.Jitter != 0 || d.Workers != 7 || !c.Metrics.PerTarget || c.Tracing.Headers["authorization"] != "Bearer x" ||
		c.Store.DSN != "postgres://db/hookd" || c.Store.DSNFile != "" || c.Log.Level != "warn" || c.Log.Format != "text" {
		t.Errorf("the environment did not win: %+v", c)
	}
	w, ok := c.Modules[jwtwebhook.ID].(*jwtwebhook.Webhook)
	if !ok || w.URL != "https://hooks.example/" || !w.Events.UserCreate {
		t.Errorf("[jwt_webhook] from the environment: %#v", c.Modules[jwtwebhook.ID])
	}
	for key, want := range map[string]string{
		"server.listen": "HOOKD_SERVER_LISTEN", "log.level": SourceFile, "log.format": SourceDefault,
		"delivery.timeout": SourceDefault, "jwt_webhook.events.user_create": "HOOKD_JWT_WEBHOOK_EVENTS_USER_CREATE",
		"store.dsn": "HOOKD_STORE_DSN", "store.driver": SourceFile,
	} {
		if got := c.Source(key); got != want {
			t.Errorf("Source(%q) = %q, want %q", key, got, want)
		}
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`listen = "127.0.0.1:7001"  # env HOOKD_SERVER_LISTEN`, `level = "warn"  # file`, `format = "text"  # default`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("hookd config lacks %q:\n%s", want, out)
		}
	}
}

// TestEnvErrors: a variable that names no key, a value of the wrong type
// and an array of tables are errors that name the variable and say what
// is allowed, reported with the file's.
func TestEnvErrors(t *testing.T) {
	t.Parallel()
	env := []string{"HOOKD_SERVER_LISTN=x", "HOOKD_DELIVERY_JITTER=lots", "HOOKD_DOMAIN_ID=5", "HOOKD_DELIVERY_TIMEOUT=0s"}
	_, errs := parseConfigAll("config.toml", ".", []byte("[log]\nlevel = \"loud\"\n"), builtin.Registry(), env)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`config.toml: log.level: must be one of debug, info, warn, error; got "loud"`,
		"environment HOOKD_DELIVERY_TIMEOUT: delivery.timeout: must be between 100ms and 5m, got 0s",
		`environment HOOKD_DELIVERY_JITTER: delivery.jitter: want a number, got "lots"`,
		"environment HOOKD_DOMAIN_ID: [[domain]] is an array of tables, which cannot be set from the environment; set it in the config file",
		"environment HOOKD_SERVER_LISTN: names no key of [server]; allowed: HOOKD_SERVER_LISTEN, HOOKD_SERVER_TOKEN_FILE, HOOKD_SERVER_SERVER_ID, HOOKD_SERVER_PUBLIC_LISTEN",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadConfigReadsTheEnvironment: LoadConfig applies the process's
// environment (the daemon's path).
func TestLoadConfigReadsTheEnvironment(t *testing.T) {
	t.Setenv("HOOKD_SERVER_SERVER_ID", "from-env")
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[server]\nserver_id = \"from-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.ServerID != "from-env" || c.Source("server.server_id") != "HOOKD_SERVER_SERVER_ID" {
		t.Errorf("server_id = %q from %q", c.Server.ServerID, c.Source("server.server_id"))
	}
}

// TestRedactedShowsEffectiveValues (issue 16, point 3): hookd config and
// the admin page showed instances = 0, max_reply = 0, [http_events]
// timeout = "0s" and a plugin block of zeros for every URL domain. They
// show the values that run, and no plugin block for a URL script.
func TestRedactedShowsEffectiveValues(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig([]byte(`
[delivery]
timeout = "7s"
[http_events]
per_domain = true
per_domain_strict = true
[[domain]]
id = "1"
script = "plugins/guard.wasm"
[domain.plugin]
timeout = "1s"
[[domain]]
id = "2"
script = "https://acme.example/events"
strict = false
[jwt_webhook]
url = "https://hooks.example/"
private_key = "webhook.pem"
[jwt_webhook.events]
user_create = true
`), ".")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{"instances = 4  # default", "max_reply = 16384  # default", "memory_pages = 256  # default",
		`timeout = "1s"  # file`, `timeout = "7s"  # default`, `lifetime = "5m"  # default`, "strict = true  # default", "strict = false  # file"} {
		if !strings.Contains(out, want) {
			t.Errorf("hookd config lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "[domain.plugin]"); n != 1 {
		t.Errorf("%d plugin blocks for one plugin and one URL domain:\n%s", n, out)
	}
	if strings.Contains(out, "instances = 0") || strings.Contains(out, `timeout = "0s"`) {
		t.Errorf("a zero that stands for a default is shown:\n%s", out)
	}
}

// TestSectionsWithEverySwitchOffAreOff (issue 16, point 6): [jwt_webhook]
// with no event on, [http_events] with neither script and [webapi] with
// no use were refused at start; the proxy treats them as off, and so does
// hookd, with one log line each.
func TestSectionsWithEverySwitchOffAreOff(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig([]byte(`
[jwt_webhook]
url = "https://hooks.example/"
[http_events]
timeout = "5s"
[webapi]
url = "https://accounts.example/webapi"
`), t.TempDir())
	if err != nil {
		t.Fatalf("sections with every switch off are refused: %v", err)
	}
	want := []string{
		"[http_events] is off: neither global nor per_domain is on",
		"[jwt_webhook] is off: no event is enabled (events.user_create, events.user_delete, events.user_undelete, events.domain_delete)",
		"[webapi] is off: none of signup, notification, forgot_password is on",
	}
	if got := c.Off(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Off() = %q, want %q", got, want)
	}
	var log bytes.Buffer
	if _, err := Check(context.Background(), c, WithLogger(slog.New(slog.NewTextHandler(&log, nil)))); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, w := range want {
		if n := strings.Count(log.String(), w); n != 1 {
			t.Errorf("%q logged %d times:\n%s", w, n, log.String())
		}
	}
	out, _ := c.Redacted()
	if !strings.Contains(string(out), "# "+want[2]) {
		t.Errorf("hookd config does not say [webapi] is off:\n%s", out)
	}
	// A module that validates itself still refuses: only the runtime
	// treats the section as off.
	if err := (&jwtwebhook.Webhook{URL: "https://hooks.example/", PrivateKey: "k.pem"}).Validate(); err == nil {
		t.Error("Webhook.Validate accepts a webhook with no event")
	}
}

// TestTracingExporters (issue 16, point 7): exporter = "stdout" needs no
// endpoint; the standard OTEL_EXPORTER_OTLP_ENDPOINT turns OTLP on and
// OTEL_SERVICE_NAME names the service unless the file does; "none" is
// off whatever the environment says; anything else is refused.
func TestTracingExporters(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	c, err := parse("[tracing]\nexporter = \"stdout\"\n")
	if err != nil || !c.Tracing.Enabled() || c.Tracing.exporter() != ExporterStdout {
		t.Fatalf("stdout: %v, %+v", err, c)
	}
	if c, _ := parse(""); c.Tracing.Enabled() {
		t.Error("tracing on without exporter, endpoint or OTEL variables")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
	t.Setenv("OTEL_SERVICE_NAME", "proxy-hooks")
	c, err = parse("")
	if err != nil || c.Tracing.exporter() != ExporterOTLP || c.Tracing.ServiceName != "proxy-hooks" {
		t.Errorf("OTEL variables: %v, %+v", err, c.Tracing)
	}
	if c, _ := parse("[tracing]\nservice_name = \"mine\"\n"); c.Tracing.ServiceName != "mine" {
		t.Errorf("the file's service_name lost to OTEL_SERVICE_NAME: %q", c.Tracing.ServiceName)
	}
	if c, _ := parse("[tracing]\nexporter = \"none\"\n"); c.Tracing.Enabled() {
		t.Error(`exporter = "none" is on`)
	}
	if _, err := parse("[tracing]\nexporter = \"jaeger\"\n"); err == nil || !strings.Contains(err.Error(), `tracing.exporter: must be "otlp", "stdout" or "none", got "jaeger"`) {
		t.Errorf("exporter = jaeger: %v", err)
	}
}

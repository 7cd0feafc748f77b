package runtime

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestRedactString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, in, want string
	}{
		{"url password", "webapi.url", "https://ann:pa%3Ass@api.example:8443/webapi?x=1",
			"https://ann:<redacted>@api.example:8443/webapi?x=1"},
		{"url user only", "jwt_webhook.url", "https://ann@api.example/hook", "https://ann@api.example/hook"},
		{"url without userinfo", "jwt_webhook.url", "https://api.example/a@b", "https://api.example/a@b"},
		{"url secret query", "jwt_webhook.url", "https://h.example/hook?token=abc&rid=4&api_key=k#frag",
			"https://h.example/hook?token=<redacted>&rid=4&api_key=<redacted>#frag"},
		{"postgres url dsn", "store.dsn", "postgres://hookd:s3cret@db:5432/hookd?sslmode=require&sslpassword=p2&sslkey=/k.pem",
			"postgres://hookd:<redacted>@db:5432/hookd?sslmode=require&sslpassword=<redacted>&sslkey=/k.pem"},
		{"keyword dsn", "store.dsn", "host=db user=hookd password=s3cret dbname=hookd",
			"host=db user=hookd password=<redacted> dbname=hookd"},
		{"keyword dsn quoted", "store.dsn", `password='a b\' c' host=db`, `password=<redacted> host=db`},
		{"keyword dsn first", "store.dsn", "password=x", "password=<redacted>"},
		{"secret name", "domain.config.api_token", "abc", "<redacted>"},
		{"secret name mixed case", "domain.config.Client-Secret", "abc", "<redacted>"},
		{"password name", "domain.config.nested.db_password", "abc", "<redacted>"},
		{"pem anywhere", "domain.config.note", "-----BEGIN PRIVATE KEY-----\nMC4…", "<redacted>"},
		{"token file is a path", "server.token_file", "/etc/hookd/token", "/etc/hookd/token"},
		{"private key is a file name", "jwt_webhook.private_key", "webhook.pem", "webhook.pem"},
		{"previous keys are file names", "jwt_webhook.previous_keys", "old.pem", "old.pem"},
		{"a _file key", "domain.config.secret_file", "/run/secret", "/run/secret"},
		{"plain value", "http_events.global_server", "localhost:8080", "localhost:8080"},
		{"empty secret stays empty", "domain.config.token", "", ""},
		{"not a url", "domain.config.note", "a://", "a://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactString(tc.path, tc.in); got != tc.want {
				t.Errorf("redactString(%q, %q) = %q, want %q", tc.path, tc.in, got, tc.want)
			}
		})
	}
}

// redactInput is a config with a secret in every place one can hide; the
// secrets are the words starting with "S3".
const redactInput = `
[server]
listen = "127.0.0.1:7700"
token_file = "token"
server_id = "node-1"

[store]
driver = "postgres"
dsn = "postgres://hookd:S3dsn@db:5432/hookd?sslmode=disable"

[jwt_webhook]
url = "https://hooks.example/isl?token=S3query"
private_key = "webhook.pem"
previous_keys = ["old.pem"]
claims = { iss = "proxy", rid = 456 }
[jwt_webhook.events]
user_create = true

[http_events]
global = true
global_server = "events.example:8080"
global_path = "/events?secret=S3server"
per_domain = true

[[domain]]
id = "5"
script = "https://acme.example/isl-events"

[[domain]]
id = "6"
script = "plugins/guard.wasm"
[domain.plugin]
keys = ["plugin.pem"]
timeout = "250ms"
[domain.config]
api_token = "S3plugin"
block = ["10.0.0.0/8"]
[domain.config.db]
password = "S3nested"
user = "guard"

[commands]
xmlmsg_url = "http://proxy:S3xmlmsg@localhost:7615/xmlmsg"

[webapi]
url = "https://svc:S3webapi@api.example/webapi"
forward_password = true
signup = true
`

// redactSecrets are the secrets of redactInput, in the order they appear
// in its redacted form.
var redactSecrets = []string{"S3dsn", "S3xmlmsg", "S3plugin", "S3nested", "S3server", "S3query", "S3webapi"}

// TestConfigRedacted: no secret of the input is in the output, every
// stand-in is one, file names and other values are kept, and the output
// with its secrets filled back in parses to a config that runs the same:
// its own redaction is the same, but for where the values came from
// (the effective values are all in the file now).
func TestConfigRedacted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, out := parseRedacted(t, redactInput, dir)
	text := string(out)
	for _, s := range redactSecrets {
		if strings.Contains(text, s) {
			t.Errorf("secret %s is in the output:\n%s", s, text)
		}
	}
	for _, keep := range []string{
		`token_file = "` + dir, `private_key = "webhook.pem"`, `previous_keys = ["old.pem"]`, `keys = ["plugin.pem"]`,
		`forward_password = true`, `user = "guard"`, `postgres://hookd:<redacted>@db:5432/hookd?sslmode=disable`,
		`max_age = "72h"`, `[[domain]]`, `[jwt_webhook.events]`, `user_create = true`,
	} {
		if !strings.Contains(text, keep) {
			t.Errorf("output lacks %q:\n%s", keep, text)
		}
	}
	if n := strings.Count(text, RedactedValue); n != len(redactSecrets) {
		t.Fatalf("%d stand-ins for %d secrets:\n%s", n, len(redactSecrets), text)
	}

	filled := text
	for _, s := range redactSecrets {
		filled = strings.Replace(filled, RedactedValue, s, 1)
	}
	again := reparse(t, out, filled, dir)
	if !reflect.DeepEqual(cfg.Store, again.Store) || !reflect.DeepEqual(cfg.Delivery, again.Delivery) || !reflect.DeepEqual(cfg.Server, again.Server) {
		t.Errorf("the core sections differ after a round trip:\n%+v\n%+v", cfg, again)
	}
	// Redacting does not touch the config itself.
	if cfg.Store.DSN != "postgres://hookd:S3dsn@db:5432/hookd?sslmode=disable" {
		t.Errorf("the config's DSN changed: %s", cfg.Store.DSN)
	}
}

// parseRedacted parses input, its relative paths under dir, and returns the
// config and its redacted form.
func parseRedacted(t *testing.T, input, dir string) (*Config, []byte) {
	t.Helper()
	cfg, err := ParseConfig([]byte(input), dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, out
}

// reparse parses filled, the redacted config out with its stand-ins
// filled back in, and fails t unless it parses and its redaction is out
// but for where the values came from (all in the file now); it returns
// the config.
func reparse(t *testing.T, out []byte, filled, dir string) *Config {
	t.Helper()
	again, err := ParseConfig([]byte(filled), dir)
	if err != nil {
		t.Fatalf("the redacted config, filled back, does not parse: %v\n%s", err, filled)
	}
	out2, err := again.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := withoutSources(out), withoutSources(out2); a != b {
		t.Errorf("the redacted config, filled back, parses to another config:\n%s\nredacted again:\n%s", a, b)
	}
	return again
}

// TestConfigRedactedDefaults: an empty file gives every default.
func TestConfigRedactedDefaults(t *testing.T) {
	t.Parallel()
	out, err := DefaultConfig().Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[server]", `listen = "127.0.0.1:7700"`, "[delivery]", `retry_schedule = ["5s", "5m", "30m", "2h", "5h", "10h"]`, "[log]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("defaults lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), RedactedValue) {
		t.Errorf("defaults have a stand-in:\n%s", out)
	}
}

// FuzzRedactString: redacting never panics, redacting twice changes
// nothing more, and a URL's password never survives.
func FuzzRedactString(f *testing.F) {
	for _, s := range []string{"postgres://hookd:pw@db/hookd?sslpassword=x", "https://a:b@h/p?token=t#f", "host=db password='x y'",
		"/events?secret=1", "a://", "://x", "http://@h", "http://u:@h", "http://u:p@h@i/x", "//0:@", "//u:p@h/x"} {
		f.Add("store.dsn", s)
		f.Add("webapi.url", s)
	}
	f.Fuzz(func(t *testing.T, path, s string) {
		out := redactString(path, s)
		if again := redactString(path, out); again != out {
			t.Errorf("redactString(%q, %q) = %q, then %q", path, s, out, again)
		}
		if u, err := url.Parse(s); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok && !strings.Contains(out, ":"+RedactedValue+"@") && out != RedactedValue {
				t.Errorf("redactString(%q, %q) = %q keeps the password", path, s, out)
			}
		}
	})
}

// withoutSources drops the "  # file" comments Redacted ends key lines
// with.
func withoutSources(out []byte) string {
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		for _, src := range []string{"  # " + SourceFile, "  # " + SourceDefault, "  # env "} {
			if j := strings.LastIndex(l, src); j >= 0 {
				l = l[:j]
			}
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

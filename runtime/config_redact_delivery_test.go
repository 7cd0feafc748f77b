package runtime

import (
	"strings"
	"testing"
)

// redactDeliveryInput has delivery tables (issue 18) with a secret in
// every place one can hide: literal header values, whatever the header
// is called, literal signing secrets and the password of a proxy URL.
// The secrets are the words starting with "S3" (a literal signing secret
// is a whsec_ one, "whsec_S3…").
const redactDeliveryInput = `
[delivery]
proxy = "http://egress:S3proxy@egress.example:3128"

[jwt_webhook]
url = "https://hooks.example/isl"
private_key = "webhook.pem"
[jwt_webhook.events]
user_create = true
[jwt_webhook.delivery]
headers = { Authorization = { file = "hook.token" }, "X-Tenant" = "S3tenant" }
signing = "standard-webhooks"
signing_secrets = [{ file = "whsec.txt" }, "whsec_S3MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
signing_key = "signing.pem"
tls = { client_cert = "client.pem", client_key = "client.key", ca = "ca.pem" }
filter = { where = { AUTH_TOKEN_TYPE = "bearer" } }

[http_events]
per_domain = true

[[domain]]
id = "5"
script = "https://acme.example/isl-events"
[domain.delivery]
headers = { "X-Api-Key" = "S3domain" }
`

// TestConfigRedactedDelivery: `hookd config` shows a delivery table's
// literal header values, literal signing secrets and proxy password as
// <redacted>, and the files they name as they are (signing_key, tls,
// headers and secrets from files); filter values are event fields, not
// secrets, whatever they are called. Filled back in, the output parses to
// a config that redacts the same.
func TestConfigRedactedDelivery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, out := parseRedacted(t, redactDeliveryInput, dir)
	text := string(out)
	// The secrets themselves, not "S3": a temporary directory's random
	// name (in the paths shown) may hold those two letters.
	for _, secret := range []string{"S3proxy", "S3tenant", "S3MfKQ9r8G", "S3domain"} {
		if strings.Contains(text, secret) {
			t.Errorf("a secret (%s) is in the output:\n%s", secret, text)
		}
	}
	if n := strings.Count(text, RedactedValue); n != 4 {
		t.Errorf("%d stand-ins; want 4 (proxy password, X-Tenant, the literal signing secret, X-Api-Key):\n%s", n, text)
	}
	for _, keep := range []string{
		`file = "hook.token"`, `file = "whsec.txt"`, `signing_key = "signing.pem"`, `client_cert = "client.pem"`,
		`client_key = "client.key"`, `ca = "ca.pem"`, `AUTH_TOKEN_TYPE = ["bearer"]`, `signing = "standard-webhooks"`,
		`proxy = "http://egress:<redacted>@egress.example:3128"`, "[domain.delivery.headers.X-Api-Key]",
	} {
		if !strings.Contains(text, keep) {
			t.Errorf("output lacks %q:\n%s", keep, text)
		}
	}

	// The entries of an array the file sets whole come from the file.
	for _, want := range []string{`file = "whsec.txt"  # file`, `value = "<redacted>"  # file`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	// Every stand-in filled with one value that is valid in each place.
	filled := strings.ReplaceAll(text, RedactedValue, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	reparse(t, out, filled, dir)
}

// TestDeliveryProxyValidated: [delivery] proxy is judged by the rule of
// a target's delivery.proxy, under its own key.
func TestDeliveryProxyValidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ proxy, want string }{
		{"socks5://egress:1080", `delivery.proxy: "socks5://egress:1080": "direct" or an http:// or https:// URL`},
		{"http://egress.example", "delivery.proxy: \"http://egress.example\" has no port"},
		{"http://egress.example:3128/path", "has a path"},
	} {
		_, err := ParseConfig([]byte("[delivery]\nproxy = \""+tc.proxy+"\"\n"), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("proxy %q: %v; want %q", tc.proxy, err, tc.want)
		}
	}
	for _, ok := range []string{"http://egress.example:3128", "https://u:p@egress.example:443", "direct"} {
		if _, err := ParseConfig([]byte("[delivery]\nproxy = \""+ok+"\"\n"), t.TempDir()); err != nil {
			t.Errorf("proxy %q: %v", ok, err)
		}
	}
}

package runtime

import (
	"context"
	"strings"
	"testing"
)

// TestCheckReportsEveryModuleInFileOrder (issue 16, point 4): Check
// stopped at the first module that failed to provision; it reports every
// one, in the order of the file (here [jwt_webhook] first, although
// "http_events" sorts before it).
func TestCheckReportsEveryModuleInFileOrder(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig([]byte(`
[jwt_webhook]
url = "http://127.0.0.1:1/"
private_key = "webhook.pem"
[jwt_webhook.events]
user_create = true
[http_events]
per_domain = true
[[domain]]
id = "1"
script = "plugins/missing.wasm"
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(context.Background(), c)
	if err == nil {
		t.Fatal("Check accepts a missing key file and a missing plugin")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "config.toml: [jwt_webhook]: private_key: ") ||
		!strings.HasPrefix(lines[1], `config.toml: [http_events]: [[domain]] id "1": `) {
		t.Errorf("Check:\n%s\nwant the key file, then the plugin", err)
	}
}

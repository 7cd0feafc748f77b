package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/internal/plugintest"
)

// TestMain: plugintest builds the example plugins (see TestServePlugins),
// and removes what it keeps for this binary alone.
func TestMain(m *testing.M) { plugintest.Main(m) }

// deliveryPatience bounds the waits for a delivery: generous, as
// startPatience, so that only a delivery that never comes fails the test.
const deliveryPatience = startPatience

// TestServePlugins runs both example plugins through `hookd serve`: a
// session from a blocked network is dropped (XMLMSG to the proxy's
// endpoint), and an event is relayed as a JWT verified at a loopback
// receiver.
//
// The plugins are built (GOOS=wasip1) and compiled by plugintest, into the
// compilation cache the test binaries share, which serves as hookd's
// cache_dir: the daemon starts without compiling them, and does not
// compile them at the same time as another test binary.
func TestServePlugins(t *testing.T) {
	dir := t.TempDir()
	guard := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
	relay := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/jwt-relay")
	writeKey(t, dir) // private/webhook.pem, used as the relay's key
	pubKey := readPublicKey(t, filepath.Join(dir, "private", "webhook.pem"))

	xmlmsg := make(chan string, 4)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		xmlmsg <- string(b)
	}))
	defer proxy.Close()
	claims := make(chan jwt.MapClaims, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ JWT string }
		json.NewDecoder(r.Body).Decode(&body)
		c := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(body.JWT, c, func(*jwt.Token) (any, error) { return pubKey, nil }); err != nil {
			t.Errorf("relayed token does not verify: %v", err)
			w.WriteHeader(401)
			return
		}
		claims <- c
		w.WriteHeader(204)
	}))
	defer receiver.Close()

	listen := freeAddr(t)
	base := "http://" + listen
	cfg := fmt.Sprintf(`
[server]
listen = %q
[store]
path = "hookd.db"
[delivery]
poll_interval = "20ms"
timeout = "5m"
[http_events]
per_domain = true
per_domain_strict = true
[commands]
xmlmsg_url = %q
[plugins]
cache_dir = %q

[[domain]]
id = "guarded"
script = %q
[domain.plugin]
memory_pages = 512
timeout = "1m"
[domain.config]
block = ["10.0.0.0/8"]
secret = "s3cret"

[[domain]]
id = "relayed"
script = %q
[domain.plugin]
memory_pages = 512
timeout = "1m"
keys = ["webhook.pem"]
http_allow = [%q]
allow_private = ["127.0.0.0/8"]
[domain.config]
key = "webhook.pem"
url = %q
issuer = "hookd-test"
`, listen, proxy.URL+"/xmlmsg", plugintest.CacheDir(t), guard, relay, receiver.URL, receiver.URL+"/isl")
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "-config", path}, io.Discard, &stderr) }()
	waitHealthy(t, base, nil)

	post := func(form string) {
		resp, err := http.Post(base+"/v1/events", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("post %s: %v %v", form, resp, err)
		}
		resp.Body.Close()
	}
	post("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&DOMAIN_ID=guarded&SESSIONID=bad1&reasonAddress=10.9.8.7")
	post("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&DOMAIN_ID=guarded&SESSIONID=ok1&reasonAddress=192.0.2.1")
	post("MODULE=ISL_LIGHT&EVENT=START&DOMAIN_ID=relayed&SESSIONID=r1")

	select {
	case doc := <-xmlmsg:
		if !strings.Contains(doc, `<session id="bad1">`) || !strings.Contains(doc, "<drop") || !strings.Contains(doc, `secret="s3cret"`) {
			t.Errorf("XMLMSG endpoint got %q", doc)
		}
	case <-time.After(deliveryPatience):
		t.Fatalf("no drop reached the proxy; hookd said:\n%s", stderr.String())
	}
	select {
	case c := <-claims:
		if c["iss"] != "hookd-test" || c["domain_id"] != "relayed" || c["session_id"] != "r1" || c["jti"] == "" {
			t.Errorf("relayed claims %v", c)
		}
	case <-time.After(deliveryPatience):
		t.Fatalf("no relayed JWT; hookd said:\n%s", stderr.String())
	}
	select {
	case doc := <-xmlmsg:
		t.Errorf("a second XMLMSG document reached the proxy: %q", doc)
	default:
	}
	cancel()
	<-done
}

func readPublicKey(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwt.ParseEdPrivateKeyFromPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey).Public()
}

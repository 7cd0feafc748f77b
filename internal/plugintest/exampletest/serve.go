package exampletest

import (
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

	"github.com/hookrt/hookd/internal/daemontest"
)

// Serve runs both examples through `hookd serve`, as an operator would:
// a session from a blocked network is dropped (XMLMSG POSTed to the
// proxy's endpoint), and an event is relayed as a JWT verified at a
// loopback receiver.
type Serve struct {
	// SessionGuard and JWTRelay are the examples' .wasm.
	SessionGuard, JWTRelay string
	// CacheDir is hookd's [plugins] cache_dir: plugintest.CacheDir,
	// where plugintest compiled the Go builds already, or "" for one in
	// the test's directory (the AssemblyScript builds are small, and
	// compile fast).
	CacheDir string
	// MemoryPages is each plugin's memory_pages: cmd/hookd's test has
	// given the Go builds 512 (32 MiB), room for the Go runtime's heap; 0
	// leaves hookd's default.
	MemoryPages int
	// Start starts `hookd serve -config <config>`, stopped when t ends,
	// and returns a channel closed when it has exited (nil if it cannot)
	// and its output, for failure messages.
	Start func(t *testing.T, config string) (exited <-chan struct{}, out fmt.Stringer)
}

// Run runs the scenario.
func (s Serve) Run(t *testing.T) {
	dir := t.TempDir()
	priv := daemontest.WriteKey(t, filepath.Join(dir, "private"), "webhook.pem")

	xmlmsg := make(chan string, 4)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		xmlmsg <- string(b)
	}))
	t.Cleanup(proxy.Close) // after Start's cleanup: hookd stops before its targets do
	claims := make(chan jwt.MapClaims, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ JWT string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		c := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(body.JWT, c, func(*jwt.Token) (any, error) { return priv.Public(), nil },
			jwt.WithValidMethods([]string{"EdDSA"})); err != nil {
			t.Errorf("relayed token does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		claims <- c
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	cacheDir := s.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(dir, "wasm-cache")
	}
	memory := ""
	if s.MemoryPages != 0 {
		memory = fmt.Sprintf("memory_pages = %d", s.MemoryPages)
	}
	listen := daemontest.FreeAddr(t)
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
%s
timeout = "1m"
[domain.config]
block = ["10.0.0.0/8", "2001:db8::/32"]
secret = "s3cret"

[[domain]]
id = "relayed"
script = %q
[domain.plugin]
%s
timeout = "1m"
keys = ["webhook.pem"]
http_allow = [%q]
allow_private = ["127.0.0.0/8"]
[domain.config]
key = "webhook.pem"
url = %q
issuer = "hookd-test"
`, listen, proxy.URL+"/xmlmsg", cacheDir, s.SessionGuard, memory, s.JWTRelay, memory, receiver.URL, receiver.URL+"/isl")
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	exited, out := s.Start(t, path)
	base := "http://" + listen
	daemontest.WaitHealthy(t, base, exited)

	post := func(form string) {
		t.Helper()
		resp, err := http.Post(base+"/v1/events", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatalf("post %s: %v", form, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post %s: %d %s", form, resp.StatusCode, b)
		}
	}
	post("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&DOMAIN_ID=guarded&SESSIONID=bad1&reasonAddress=10.9.8.7")
	post("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&DOMAIN_ID=guarded&SESSIONID=ok1&reasonAddress=192.0.2.1")
	post("MODULE=ISL_LIGHT&EVENT=NEWSESSION&DOMAIN_ID=guarded&SESSIONID=bad2&clientAddress=%5B2001%3Adb8%3A%3A5%5D%3A443")
	post("MODULE=ISL_LIGHT&EVENT=START&DOMAIN_ID=relayed&SESSIONID=r1&note=%C3%BC+%3C%26%3E")

	drops := map[string]bool{}
	for range 2 {
		select {
		case doc := <-xmlmsg:
			if !strings.Contains(doc, "<drop") || !strings.Contains(doc, `secret="s3cret"`) {
				t.Errorf("XMLMSG endpoint got %q", doc)
			}
			for _, s := range []string{"bad1", "bad2", "ok1"} {
				if strings.Contains(doc, `<session id="`+s+`">`) {
					drops[s] = true
				}
			}
		case <-time.After(daemontest.Patience):
			t.Fatalf("no drop reached the proxy; hookd said:\n%s", out)
		}
	}
	if !drops["bad1"] || !drops["bad2"] || drops["ok1"] {
		t.Errorf("dropped %v, want bad1 and bad2", drops)
	}
	select {
	case c := <-claims:
		data, _ := c["data"].(map[string]any)
		if c["iss"] != "hookd-test" || c["domain_id"] != "relayed" || c["session_id"] != "r1" || c["event"] != "START" ||
			c["jti"] == "" || data["note"] != "ü <&>" {
			t.Errorf("relayed claims %v", c)
		}
	case <-time.After(daemontest.Patience):
		t.Fatalf("no relayed JWT; hookd said:\n%s", out)
	}
	select {
	case doc := <-xmlmsg:
		t.Errorf("a third XMLMSG document reached the proxy: %q", doc)
	default:
	}
}

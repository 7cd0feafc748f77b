package pdkas_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// patience bounds the waits of the daemon test: generous, so that only a
// daemon that never starts, or a delivery that never comes, fails it (a
// loaded 2-core machine under -race takes its time).
const patience = 5 * time.Minute

// TestServeASPlugins runs both AssemblyScript examples through `hookd
// serve`, as cmd/hookd's TestServePlugins runs the Go ones: a session from
// a blocked network is dropped (XMLMSG POSTed to the proxy's endpoint), and
// an event is relayed as a JWT verified at a loopback receiver.
func TestServeASPlugins(t *testing.T) {
	t.Parallel()
	guard := buildAS(t, sessionGuard)
	relay := buildAS(t, jwtRelay)
	bin := buildHookd(t)
	dir := t.TempDir()
	priv := writeEd25519Key(t, filepath.Join(dir, "private"), "webhook.pem")

	xmlmsg := make(chan string, 4)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		xmlmsg <- string(b)
	}))
	defer proxy.Close()
	claims := make(chan jwt.MapClaims, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ JWT string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		c := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(body.JWT, c, func(*jwt.Token) (any, error) { return priv.Public(), nil },
			jwt.WithValidMethods([]string{"EdDSA"})); err != nil {
			t.Errorf("relayed token does not verify: %v", err)
			w.WriteHeader(401)
			return
		}
		claims <- c
		w.WriteHeader(204)
	}))
	defer receiver.Close()

	listen := freeAddr(t)
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
cache_dir = "wasm-cache"

[[domain]]
id = "guarded"
script = %q
[domain.plugin]
timeout = "1m"
[domain.config]
block = ["10.0.0.0/8", "2001:db8::/32"]
secret = "s3cret"

[[domain]]
id = "relayed"
script = %q
[domain.plugin]
timeout = "1m"
keys = ["webhook.pem"]
http_allow = [%q]
allow_private = ["127.0.0.0/8"]
[domain.config]
key = "webhook.pem"
url = %q
issuer = "hookd-test"
`, listen, proxy.URL+"/xmlmsg", guard, relay, receiver.URL, receiver.URL+"/isl")
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startHookd(t, bin, path)
	base := "http://" + listen
	d.waitHealthy(t, base)

	post := func(form string) {
		t.Helper()
		resp, err := http.Post(base+"/v1/events", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			t.Fatalf("post %s: %v", form, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 {
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
		case <-time.After(patience):
			t.Fatalf("no drop reached the proxy; hookd said:\n%s", d.out.String())
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
	case <-time.After(patience):
		t.Fatalf("no relayed JWT; hookd said:\n%s", d.out.String())
	}
	select {
	case doc := <-xmlmsg:
		t.Errorf("a third XMLMSG document reached the proxy: %q", doc)
	default:
	}
}

// buildHookd builds cmd/hookd into t's temporary directory (without the
// race detector: the daemon is the system under test, not this binary).
func buildHookd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/hookrt/hookd/cmd/hookd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/hookd: %v\n%s", err, out)
	}
	return bin
}

// daemon is a hookd process started by the test.
type daemon struct {
	cmd    *exec.Cmd
	exited chan struct{}
	out    *lockedBuffer
}

func startHookd(t *testing.T, bin, config string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(bin, "serve", "-config", config), exited: make(chan struct{}), out: &lockedBuffer{}}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("hookd output:\n%s", d.out.String())
		}
	})
	return d
}

// waitHealthy polls /healthz until hookd answers 200, it exits, or
// patience runs out.
func (d *daemon) waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			t.Fatalf("hookd exited before becoming healthy:\n%s", d.out.String())
		default:
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-d.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("hookd did not become healthy within %s:\n%s", patience, d.out.String())
}

// lockedBuffer is a daemon's output: os/exec copies into it while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeEd25519Key writes a new Ed25519 key as dir/name (mode 0600, dir
// 0700), as hookd wants a key in its private directory, and returns it.
func writeEd25519Key(t testing.TB, dir, name string) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/jwtsign"
)

// freeAddr returns a loopback address nothing listens on right now.
var freeAddr = daemontest.FreeAddr

// writeKey writes a fresh Ed25519 key, mode 0600, into dir/private.
func writeKey(t testing.TB, dir string) {
	t.Helper()
	daemontest.WriteKey(t, filepath.Join(dir, "private"), "webhook.pem")
}

// writeConfig writes a config for a node listening on listen whose JWT
// webhook posts to hookURL, with fast retries.
func writeConfig(t testing.TB, dir, listen, hookURL, extra string) string {
	t.Helper()
	writeKey(t, dir)
	cfg := fmt.Sprintf(`
[server]
listen = %q
[store]
path = "data/hookd.db"
[delivery]
retry_schedule = ["100ms"]
jitter = 0
timeout = "2s"
breaker_cooldown = "100ms"
poll_interval = "20ms"
[log]
level = "debug"
[jwt_webhook]
url = %q
private_key = "webhook.pem"
claims = { iss = "test-proxy", rid = "456" }
[jwt_webhook.events]
user_create = true
user_delete = true
%s
`, listen, hookURL, extra)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startPatience bounds how long a test waits for hookd to serve.
const startPatience = daemontest.Patience

// waitHealthy polls /healthz until the daemon answers (a condition, not a
// fixed sleep), or fails if exited is closed first or startPatience runs
// out.
var waitHealthy = daemontest.WaitHealthy

func postEvent(t *testing.T, base, token string, fields map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(fields)
	req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		EventID string `json:"event_id"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 202 {
		t.Fatalf("POST /v1/events: %d %+v %v", resp.StatusCode, out, err)
	}
	return out.EventID
}

// jwtReceiver verifies each {"jwt": …} against hookd's JWKS and records
// the claims by jti.
type jwtReceiver struct {
	mu    sync.Mutex
	jwks  string
	keys  map[string]any
	got   map[string][]jwt.MapClaims
	total int
	ch    chan struct{}
	bad   []string
}

func newJWTReceiver(jwksURL string) *jwtReceiver {
	return &jwtReceiver{jwks: jwksURL, got: map[string][]jwt.MapClaims{}, ch: make(chan struct{}, 1)}
}

func (r *jwtReceiver) key(t *jwt.Token) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kid, _ := t.Header["kid"].(string)
	if k, ok := r.keys[kid]; ok {
		return k, nil
	}
	resp, err := http.Get(r.jwks)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct{ Keys []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	r.keys = map[string]any{}
	for _, raw := range set.Keys {
		pub, id, err := jwtsign.ParsePublicJWK(raw)
		if err != nil {
			return nil, err
		}
		r.keys[id] = pub
	}
	if k, ok := r.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

func (r *jwtReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct{ JWT string }
	if err := json.NewDecoder(io.LimitReader(req.Body, 64<<10)).Decode(&body); err != nil {
		w.WriteHeader(400)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(body.JWT, claims, r.key, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	r.mu.Lock()
	if err != nil {
		r.bad = append(r.bad, err.Error())
	} else {
		jti, _ := claims["jti"].(string)
		r.got[jti] = append(r.got[jti], claims)
		r.total++
	}
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
	if err != nil {
		w.WriteHeader(401)
		return
	}
	w.WriteHeader(204)
}

// waitFor blocks until cond holds over the receiver's state.
func (r *jwtReceiver) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.ch:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s: got %d distinct, %d total, bad %v", what, len(r.got), r.total, r.bad)
		}
	}
}

// daemon is a hookd process started from the test binary's build.
type daemon struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
	out    *lockedBuffer
}

// removeBuiltHookd removes the hookd binary buildOnce built, if it did.
func removeBuiltHookd() {
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
}

// lockedBuffer is a daemon's output: os/exec copies into it while the test
// reads it.
type lockedBuffer = daemontest.Output

// builtDir is where buildOnce put hookd; TestMain removes it.
var builtDir string

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookd-bin")
	if err != nil {
		return "", err
	}
	builtDir = dir
	bin := filepath.Join(dir, "hookd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func startDaemon(t *testing.T, configPath string) *daemon {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, bin, "serve", "-config", configPath)
	return &daemon{cmd: d.Cmd, exited: d.Exited, out: d.Out}
}

// TestCrashRecovery: with the receiver down, events are accepted, then the
// daemon is SIGKILLed; once the receiver is up and the daemon restarted,
// every event arrives, verified, and duplicates carry the same jti.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	listen, hookAddr := freeAddr(t), freeAddr(t)
	base := "http://" + listen
	cfg := writeConfig(t, dir, listen, "http://"+hookAddr+"/hook", "")

	d := startDaemon(t, cfg)
	waitHealthy(t, base, d.exited)
	const n = 25
	ids := map[string]string{}
	for i := 0; i < n; i++ {
		user := fmt.Sprintf("user%d", i)
		ids[postEvent(t, base, "", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": user})] = user
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.exited

	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	ln, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatalf("receiver port taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: recv}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	d2 := startDaemon(t, cfg)
	waitHealthy(t, base, d2.exited)
	recv.waitFor(t, "every event", func() bool { return len(recv.got) == n })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.bad) > 0 {
		t.Errorf("unverifiable tokens: %v", recv.bad)
	}
	for jti, claims := range recv.got {
		user, ok := ids[jti]
		if !ok {
			t.Errorf("jti %s was never emitted", jti)
			continue
		}
		for _, c := range claims {
			data, _ := c["data"].(map[string]any)
			if data["USERNAME"] != user || c["iss"] != "test-proxy" || c["event"] != "user_create" || c["domain_id"] != "3" {
				t.Errorf("jti %s: claims %v", jti, c)
			}
		}
	}
}

// TestServeAPI runs the daemon in-process with a bearer token and checks
// the API end to end on a real runtime.
func TestServeAPI(t *testing.T) {
	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen
	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	hook := http.Server{Handler: recv}
	hookLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go hook.Serve(hookLn)
	t.Cleanup(func() { hook.Close() })
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, dir, listen, "http://"+hookLn.Addr().String()+"/", "")
	cfgData, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, bytes.Replace(cfgData, []byte("[server]\n"), []byte("[server]\ntoken_file = \"token\"\n"), 1), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "-config", cfgPath}, io.Discard, &stderr) }()
	waitHealthy(t, base, nil)

	// /v1 needs the token; the JWKS does not.
	resp, _ := http.Post(base+"/v1/events", "application/json", strings.NewReader(`{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`))
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	resp.Body.Close()
	id := postEvent(t, base, "s3cret", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "1", "USERNAME": "ann"})
	// A form-encoded event, as the proxy sends HTTP events.
	req, _ := http.NewRequest("POST", base+"/v1/events", strings.NewReader("MODULE=ISL_CP&EVENT=USER_DELETE&DOMAIN_ID=1&USERNAME=bob"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("form event: %v %v", resp, err)
	}
	resp.Body.Close()
	recv.waitFor(t, "both events", func() bool { return len(recv.got) == 2 })
	if _, ok := recv.got[id]; !ok {
		t.Errorf("event %s not received", id)
	}

	// The delivery log shows both, once their outcomes are recorded (the
	// receiver answers before the worker writes the attempt).
	var list struct {
		Deliveries []struct {
			ID      int64  `json:"id"`
			EventID string `json:"event_id"`
			State   string `json:"state"`
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ = http.NewRequest("GET", base+"/v1/deliveries?state=delivered", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list.Deliveries) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", list)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freeAddr(t), "http://127.0.0.1:1/", "")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", cfg}, &out, &errb); code != 0 {
		t.Fatalf("check: %d %s", code, errb.String())
	}
	os.Chmod(filepath.Join(dir, "private", "webhook.pem"), 0o644)
	errb.Reset()
	if code := run(context.Background(), []string{"check", "-config", cfg}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "readable by group or others") {
		t.Fatalf("check with a loose key: %d %s", code, errb.String())
	}
	os.WriteFile(filepath.Join(dir, "bad.toml"), []byte("[jwt_webhook]\nurll = 1\n"), 0o600)
	errb.Reset()
	if code := run(context.Background(), []string{"check", "-config", filepath.Join(dir, "bad.toml")}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `unknown key "jwt_webhook.urll"`) {
		t.Fatalf("check with a bad key: %d %s", code, errb.String())
	}
}

// TestCheckRefusesWhatServeRefuses: the token file (missing, empty,
// readable by others), an unreachable PostgreSQL (unless -offline), and a
// SQLite directory hookd cannot write; warnings do not fail the check.
func TestCheckRefusesWhatServeRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), mode)
		os.Chmod(p, mode)
		return p
	}
	token := write("token", "s3cret\n", 0o600)
	check := func(conf string, args ...string) (int, string) {
		cfg := write("config.toml", conf, 0o600)
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"check", "-config", cfg}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	ok := "[server]\nlisten = \"" + freeAddr(t) + "\"\ntoken_file = \"token\"\n[store]\npath = \"data/hookd.db\"\n"
	if code, out := check(ok); code != 0 {
		t.Fatalf("a good config: %d %s", code, out)
	}
	for _, tc := range []struct {
		name, setup, want string
	}{
		{"missing token file", "rm", "server.token_file: " + token + " does not exist"},
		{"empty token file", "", "must hold one token"},
		{"token readable by others", "0644", "is readable by group or others (mode 0644)"},
	} {
		switch tc.setup {
		case "rm":
			os.Remove(token)
		case "0644":
			write("token", "s3cret\n", 0o644)
		default:
			write("token", "", 0o600)
		}
		if code, out := check(ok); code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, %s; want 1 and %q", tc.name, code, out, tc.want)
		}
	}
	write("token", "s3cret\n", 0o600)

	pg := "[store]\ndriver = \"postgres\"\ndsn = \"postgres://hookd@" + freeAddr(t) + "/hookd?connect_timeout=5\"\n"
	if code, out := check(pg); code != 1 || !strings.Contains(out, "[store]") {
		t.Errorf("an unreachable PostgreSQL: exit %d, %s", code, out)
	}
	if code, out := check(pg, "-offline"); code != 0 {
		t.Errorf("an unreachable PostgreSQL with -offline: exit %d, %s", code, out)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if code, out := check("[store]\npath = \"ro/sub/hookd.db\"\n"); code != 1 || !strings.Contains(out, "is not writable") {
			t.Errorf("a store directory hookd cannot write: exit %d, %s", code, out)
		}
	}
	code, out := check("[[domain]]\nid = \"5\"\nscript = \"https://acme.example/events\"\n[http_events]\nglobal = true\nglobal_server = \"localhost:8080\"\n")
	if code != 0 || !strings.Contains(out, "warning: ") || !strings.Contains(out, "per_domain is off: they receive nothing") {
		t.Errorf("[[domain]] while per_domain is off: exit %d, %s; want ok with a warning", code, out)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/storetest"
)

// The "done when" (issue 17), from outside: three `hookd serve`
// processes on one PostgreSQL, driven with the CLI and plain HTTP.
//
// The two domains' ids are words that appear nowhere else, so that a leak
// of one into the other's answers is a substring of the answer.
const (
	ownDomain   = "alpha7"
	otherDomain = "beta9"
)

// domainNode is one hookd process of the test.
type domainNode struct {
	name, base string
	d          *daemon
}

// domainCluster is three nodes, the operator's token file, and what they
// talk to.
type domainCluster struct {
	nodes     []domainNode
	opToken   string // the operator's token file
	dir       string
	scriptURL string          // the events script's base URL
	events    *countingScript // the domains' events script, before they run a plugin
	webapiHit *sync.Map       // usernames the External WebAPI was asked to sign up
}

// countingScript is a strict events script: it acknowledges every event
// (<nomessage/>) and counts them by DOMAIN_ID.
type countingScript struct {
	mu  sync.Mutex
	got map[string]int
}

func (s *countingScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.got[r.Form.Get("DOMAIN_ID")]++
	s.mu.Unlock()
	io.WriteString(w, "<nomessage/>")
}

func (s *countingScript) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.got)
}

func (s *countingScript) count(domain string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[domain]
}

// startDomainCluster starts three nodes on one PostgreSQL, with per-domain
// events, the External WebAPI's sign-up with the domain's plugin deciding
// first, and one operator token.
func startDomainCluster(t *testing.T) *domainCluster {
	t.Helper()
	st := storetest.Postgres(t)
	c := &domainCluster{dir: t.TempDir(), events: &countingScript{got: map[string]int{}}, webapiHit: &sync.Map{}}
	script := httptest.NewServer(c.events)
	t.Cleanup(script.Close)
	c.scriptURL = script.URL
	webapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body)
		c.webapiHit.Store(body["username"], true)
		io.WriteString(w, `{"result":{"code":"ok","description":"Welcome."},"data":{"id":1}}`)
	}))
	t.Cleanup(webapi.Close)
	c.opToken = filepath.Join(c.dir, "operator.token")
	if err := os.WriteFile(c.opToken, []byte("op-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := plugintest.CacheDir(t)
	for _, name := range []string{"a", "b", "c"} {
		dir := filepath.Join(c.dir, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		tok, _ := os.ReadFile(c.opToken)
		if err := os.WriteFile(filepath.Join(dir, "token"), tok, 0o600); err != nil {
			t.Fatal(err)
		}
		listen := freeAddr(t)
		cfg := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfg, fmt.Appendf(nil, `
[server]
listen = %q
token_file = "token"
server_id = "node-%s"
[store]
driver = "postgres"
dsn = %q
[delivery]
retry_schedule = ["200ms"]
jitter = 0
timeout = "1m"
poll_interval = "20ms"
[http_events]
per_domain = true
per_domain_strict = true
save_to_session = true
allow_private = ["127.0.0.0/8"]   # the domains' events script is on loopback
[plugins]
cache_dir = %q
[webapi]
url = %q
timeout = 30
signup = true
signup_plugin = "before"
`, listen, name, st.DSN, cache, webapi.URL), 0o600); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, cfg)
		c.nodes = append(c.nodes, domainNode{name: "node-" + name, base: "http://" + listen, d: d})
	}
	for _, n := range c.nodes {
		waitHealthy(t, n.base, n.d.exited)
	}
	return c
}

// cli runs the CLI against node n with the token in tokenFile, and fails
// t unless it exits 0.
func (c *domainCluster) cli(t *testing.T, n domainNode, tokenFile string, args ...string) (stdout, stderr string) {
	t.Helper()
	return mustHookd(t, append(slices.Clone(args), "-addr", n.base, "-token-file", tokenFile)...)
}

// writeToken writes a domain token to a file the CLI reads (mode 0600).
func (c *domainCluster) writeToken(t *testing.T, name, token string) string {
	t.Helper()
	p := filepath.Join(c.dir, name+".token")
	if err := os.WriteFile(p, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// call sends one API request with a bearer token and returns the status
// and the body.
func call(t *testing.T, method, url, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b
}

// signup asks node n to sign a user up to ownDomain, as the proxy does,
// and returns the WebAPI result's code and description.
func (c *domainCluster) signup(t *testing.T, n domainNode, user, email string) (code, reason string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "domain": ownDomain, "email": email})
	status, b := call(t, "POST", n.base+"/v1/webapi/account/signup/1", "op-s3cret", "application/json", body)
	var out struct {
		Result struct{ Code, Description string } `json:"result"`
	}
	if err := json.Unmarshal(b, &out); err != nil || status != http.StatusOK {
		t.Fatalf("%s: sign-up %s: %d %s", n.name, email, status, b)
	}
	return out.Result.Code, out.Result.Description
}

// waitEveryNode waits until cond holds on every node and returns, per
// node, how long after start it first held. It polls each node in turn
// (every 10 ms): a condition, not a sleep; the figure is what the test
// measured, within the poll interval and a request's time.
func (c *domainCluster) waitEveryNode(t *testing.T, what string, start time.Time, cond func(n domainNode) bool) map[string]time.Duration {
	t.Helper()
	seen := map[string]time.Duration{}
	deadline := time.Now().Add(daemontest.Patience)
	for len(seen) < len(c.nodes) {
		for _, n := range c.nodes {
			if _, ok := seen[n.name]; !ok && cond(n) {
				seen[n.name] = time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %s only %v", what, daemontest.Patience, seen)
		}
		if len(seen) < len(c.nodes) {
			time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
		}
	}
	var worst time.Duration
	for _, d := range seen {
		worst = max(worst, d)
	}
	t.Logf("%s: every node within %s (%v)", what, worst.Round(time.Millisecond), roundAll(seen))
	return seen
}

func roundAll(m map[string]time.Duration) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Round(time.Millisecond).String()
	}
	return out
}

// emit posts one event of domain to node n with the operator's token.
func emit(t *testing.T, n domainNode, domain, session string) {
	t.Helper()
	postEvent(t, n.base, "op-s3cret", map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "DOMAIN_ID": domain, "SESSIONID": session})
}

// portalClient logs in to node n's portal with a domain token and returns
// a client carrying the session cookie.
func portalClient(t *testing.T, n domainNode, tokenFile string) *http.Client {
	t.Helper()
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", n.base+"/portal/login", strings.NewReader(url.Values{"token": {strings.TrimSpace(string(raw))}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", n.base)
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/portal/" {
		t.Fatalf("%s: portal login: %d at %s: %.300s", n.name, resp.StatusCode, resp.Request.URL.Path, b)
	}
	return cl
}

// portalGet GETs a portal page with a logged-in client.
func portalGet(t *testing.T, cl *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, string(b)
}

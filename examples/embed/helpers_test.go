package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	hookrt "github.com/hookrt/hookd/runtime"
)

// waitTimeout bounds every wait for something asynchronous (a delivery):
// generous, for a busy machine under -race; a passing test waits far less.
const waitTimeout = 30 * time.Second

// receiver is the global events script: it records the form of every
// event hookd posts and acknowledges it with <nomessage/> (strict mode).
type receiver struct {
	srv *httptest.Server

	mu      sync.Mutex
	events  []url.Values
	changed chan struct{} // closed and replaced whenever events grows
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{changed: make(chan struct{})}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" || r.ParseForm() != nil {
			http.Error(w, "want a form posted to /events", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.events = append(rc.events, r.PostForm)
		close(rc.changed)
		rc.changed = make(chan struct{})
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<nomessage/>")
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wait waits until ok holds for the events received so far, and returns
// them.
func (rc *receiver) wait(t *testing.T, what string, ok func([]url.Values) bool) []url.Values {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		rc.mu.Lock()
		evs, changed := slices.Clone(rc.events), rc.changed
		rc.mu.Unlock()
		if ok(evs) {
			return evs
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waited %s for %s; the receiver got %d events: %v", waitTimeout, what, len(evs), evs)
		}
	}
}

// waitUser waits for the USER_CREATE event of username and returns every
// event received so far.
func (rc *receiver) waitUser(t *testing.T, username string) []url.Values {
	t.Helper()
	return rc.wait(t, "the USER_CREATE event of "+username, func(evs []url.Values) bool {
		return len(eventsWith(evs, "USERNAME", username)) > 0
	})
}

// eventsWith returns the USER_CREATE events whose field is value.
func eventsWith(evs []url.Values, field, value string) []url.Values {
	var out []url.Values
	for _, ev := range evs {
		if ev.Get("EVENT") == "USER_CREATE" && ev.Get(field) == value {
			out = append(out, ev)
		}
	}
	return out
}

// takenName is the username the fake account/1 service refuses, and
// downName the one it answers with a server error for.
const (
	takenName = "taken"
	downName  = "down"
)

// accountService is a fake account/1 service: it allows every sign-up
// except takenName's, and records the sign-up bodies it gets.
type accountService struct {
	srv *httptest.Server

	mu      sync.Mutex
	signups []map[string]any
}

func newAccountService(t *testing.T) *accountService {
	as := &accountService{}
	as.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method != http.MethodPost || r.URL.Query().Get("method") != "account/signup/1" ||
			json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "want POST ?method=account/signup/1 with a JSON body", http.StatusBadRequest)
			return
		}
		as.mu.Lock()
		as.signups = append(as.signups, body)
		as.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch body["username"] {
		case takenName:
			io.WriteString(w, `{"result":{"code":"exists","description":"That name is taken.","errors":["username"]},"data":null}`)
		case downName:
			http.Error(w, "database on fire", http.StatusInternalServerError)
		default:
			io.WriteString(w, `{"result":{"code":"ok","description":"","errors":[]},"data":{"id":1}}`)
		}
	}))
	t.Cleanup(as.srv.Close)
	return as
}

func (as *accountService) calls() []map[string]any {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]map[string]any(nil), as.signups...)
}

// testEnv is a hookd config in a temporary directory wired to a receiver
// and a fake account/1 service.
type testEnv struct {
	dir      string
	config   string // the config file's path
	recv     *receiver
	accounts *accountService
}

// newEnv writes the config. Without webapi, the [webapi] section is left
// out (sign-up is not delegated).
func newEnv(t *testing.T, webapi bool) *testEnv {
	e := &testEnv{dir: t.TempDir(), recv: newReceiver(t), accounts: newAccountService(t)}
	var b strings.Builder
	fmt.Fprintf(&b, `[server]
server_id = "embed-test"

[store]
path = %q

[delivery]
retry_schedule = ["50ms"]
jitter = 0
poll_interval = "20ms"

[http_events]
global = true
global_server = %q
global_path = "/events"
global_strict = true
`, filepath.Join(e.dir, "hookd.db"), strings.TrimPrefix(e.recv.srv.URL, "http://"))
	if webapi {
		fmt.Fprintf(&b, `
[webapi]
url = %q
signup = true
timeout = 5
`, e.accounts.srv.URL+"/webapi")
	}
	e.config = filepath.Join(e.dir, "hookd.toml")
	if err := os.WriteFile(e.config, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// testProxy is the proxy's handler on a running hookd, in-process.
type testProxy struct {
	*testEnv
	rt  *hookrt.Runtime
	url string // the proxy's base URL
}

// startProxy opens hookd on a new env as run does, creates the users
// table, and serves newServer on a loopback port; all of it stops when the
// test ends.
func startProxy(t *testing.T, webapi bool) *testProxy {
	e := newEnv(t, webapi)
	cfg, err := hookrt.LoadConfig(e.config)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	ctx := context.Background()
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := createSchema(ctx, rt.DB()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(rt, log))
	t.Cleanup(srv.Close) // before rt closes: cleanups run last-in first-out
	return &testProxy{testEnv: e, rt: rt, url: srv.URL}
}

// answer is a decoded JSON answer of the proxy.
type answer struct {
	status int
	body   map[string]any
	raw    string
}

// str returns a string member of the answer ("" if absent).
func (a answer) str(name string) string { s, _ := a.body[name].(string); return s }

// do sends a request to the proxy and decodes its JSON answer.
func do(t *testing.T, method, url, body string) answer {
	t.Helper()
	a, err := tryDo(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryDo is do for goroutines other than the test's, which must not call
// t.Fatal.
func tryDo(method, url, body string) (answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return answer{}, fmt.Errorf("%s %s: Content-Type %q, want application/json; body %s", method, url, ct, raw)
	}
	a := answer{status: resp.StatusCode, raw: strings.TrimSpace(string(raw))}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		return answer{}, fmt.Errorf("%s %s: answer %q is not a JSON object: %v", method, url, raw, err)
	}
	return a, nil
}

// post posts a JSON body to the proxy.
func (p *testProxy) post(t *testing.T, path, body string) answer {
	t.Helper()
	return do(t, http.MethodPost, p.url+path, body)
}

// deliveries returns every delivery hookd has recorded.
func (p *testProxy) deliveries(t *testing.T) []hook.Delivery {
	t.Helper()
	ds, err := p.rt.ListDeliveries(context.Background(), hook.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// wantDeliveries checks that hookd recorded exactly one delivery per event
// ID, and no other.
func (p *testProxy) wantDeliveries(t *testing.T, eventIDs ...string) {
	t.Helper()
	ds := p.deliveries(t)
	got := map[string]int{}
	for _, d := range ds {
		got[d.EventID]++
	}
	for _, id := range eventIDs {
		if got[id] != 1 {
			t.Errorf("event %s has %d deliveries, want 1", id, got[id])
		}
	}
	if len(ds) != len(eventIDs) {
		t.Errorf("%d deliveries, want %d (one per event %v): %+v", len(ds), len(eventIDs), eventIDs, ds)
	}
}

// wantUser checks the users table through GET /users/{name}.
func (p *testProxy) wantUser(t *testing.T, username, email string) {
	t.Helper()
	a := do(t, http.MethodGet, p.url+"/users/"+username, "")
	if a.status != http.StatusOK || a.str("username") != username || a.str("email") != email {
		t.Errorf("GET /users/%s = %d %s, want 200 with email %s", username, a.status, a.raw, email)
	}
}

// wantNoUser checks that username has no row.
func (p *testProxy) wantNoUser(t *testing.T, username string) {
	t.Helper()
	if a := do(t, http.MethodGet, p.url+"/users/"+username, ""); a.status != http.StatusNotFound {
		t.Errorf("GET /users/%s = %d %s, want 404: the user must not exist", username, a.status, a.raw)
	}
}

package portal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/plugintest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The runtime satisfies the portal's Backend: cmd/hookd mounts
// portal.New(rt, …).
var _ Backend = (*hookrt.Runtime)(nil)

// env is a real runtime on a SQLite file with two stored domains, alpha
// and beta, each with a token, and the portal over it on a loopback
// server. Beta has three plugin versions (the first active), a dead
// letter, a delivered event whose plugin call logged a warning, and a
// session record; alpha has whatever its test gives it.
type env struct {
	t      *testing.T
	rt     *hookrt.Runtime
	obs    *hooktest.Observations
	srv    *httptest.Server
	guard  []byte // the session-guard plugin's module
	tokA   string
	tokB   string
	betaEv []string // beta's event ids
	// betaDead and betaDelivered are beta's delivery ids.
	betaDead, betaDelivered []int64
	betaSHA                 string
}

// The marks of beta's data: none may appear on a page of alpha's.
const (
	betaMark    = "BETA-PRIVATE-7f3a"
	betaSession = "beta-session-9d2c"
	betaTokName = "beta-ci-token"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, obs: hooktest.NewObservations()}
	path := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
	var err error
	if e.guard, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// retry_schedule 2h with max_age 1h: a failed delivery is dead at once.
	cfg, err := hookrt.ParseConfig(fmt.Appendf(nil, `
[store]
path = "hookd.db"
[delivery]
retry_schedule = ["2h"]
max_age = "1h"
jitter = 0
timeout = "5s"
poll_interval = "20ms"
[http_events]
per_domain = true
per_domain_strict = true
save_to_session = true
[plugins]
cache_dir = %q
`, plugintest.CacheDir(t)), dir)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e.rt, err = hookrt.Open(t.Context(), cfg, hookrt.WithLogger(logger), hookrt.WithObserver(e.obs.Observe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = e.rt.Close(ctx)
	})
	ctx, op := t.Context(), hook.Operator()
	tok, err := e.rt.CreateDomainToken(ctx, op, "alpha", "alpha-owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.tokA = tok.Secret
	if tok, err = e.rt.CreateDomainToken(ctx, op, "beta", betaTokName, 0); err != nil {
		t.Fatal(err)
	}
	e.tokB = tok.Secret
	beta := hook.Principal{Domain: "beta", TokenID: tok.ID, TokenName: tok.Name}
	e.srv = httptest.NewServer(New(e.rt, Options{Logger: logger}))
	t.Cleanup(e.srv.Close)

	// Beta's history: version 1 (stored), version 2 without its secret
	// (active: a NEWSESSION fails for good, dead), version 1 again (a
	// NEWSESSION from an address that is no IP: a warning in its log,
	// delivered), version 3 (stored).
	good := []byte(`{"config":{"block":["10.0.0.0/8"],"secret":"` + betaMark + `"}}`)
	noSecret := []byte(`{"config":{"block":["10.0.0.0/8"]}}`)
	push := func(settings []byte, activate bool) {
		t.Helper()
		pv, err := e.rt.PushPlugin(ctx, beta, "beta", e.guard, settings, activate)
		if err != nil {
			t.Fatalf("beta's version: %v", err)
		}
		e.betaSHA = pv.SHA256
	}
	const bt = "http_events.domain.beta"
	emit := func(state hook.DeliveryState, addr string) {
		t.Helper()
		id, err := e.rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "beta",
			"SESSIONID": betaSession, "NOTE": betaMark, "reasonAddress": addr})
		if err != nil {
			t.Fatal(err)
		}
		e.betaEv = append(e.betaEv, id)
		obs := e.obs.Wait(t, "beta's "+string(state)+" delivery", func(obs []hook.Observation) bool {
			for _, ob := range obs {
				if ob.EventID == id && ob.Target == bt && ob.State == state {
					return true
				}
			}
			return false
		})
		for _, ob := range obs {
			if ob.EventID == id && ob.Target == bt && ob.State == state {
				if state == hook.StateDead {
					e.betaDead = append(e.betaDead, ob.DeliveryID)
				} else {
					e.betaDelivered = append(e.betaDelivered, ob.DeliveryID)
				}
				break
			}
		}
	}
	push(good, false)
	push(noSecret, true)
	emit(hook.StateDead, "192.0.2.1")
	if _, err := e.rt.ActivatePlugin(ctx, beta, "beta", 1); err != nil {
		t.Fatal(err)
	}
	emit(hook.StateDelivered, "bogus-"+betaMark)
	push(good, false)
	return e
}

// betaState is what alpha's requests must not change of beta's: its
// deliveries' states and attempts, its versions and the active one, its
// stored spec's revision.
func (e *env) betaState() string {
	e.t.Helper()
	ctx, op := e.t.Context(), hook.Operator()
	var b strings.Builder
	ds, err := e.rt.ListDeliveries(ctx, hook.DeliveryFilter{Target: "http_events.domain.beta"})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range ds {
		fmt.Fprintf(&b, "delivery %d %s %d; ", d.ID, d.State, d.Attempts)
	}
	vs, err := e.rt.PluginVersions(ctx, op, "beta")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, v := range vs {
		fmt.Fprintf(&b, "version %d active %v; ", v.Version, v.Active)
	}
	info, err := e.rt.Domain(ctx, op, "beta")
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "revision %d %s", info.Revision, info.Spec)
	return b.String()
}

// client is a browser stand-in: it keeps cookies, does not follow
// redirects (tests look at them), and sends Origin with its POSTs.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

// post sends a form from this origin.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	return c.do(req)
}

// upload sends a multipart form from this origin, with file as its
// "module" part when not nil.
func (c *client) upload(path string, form url.Values, file []byte) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("module", filepath.Base("plugin.wasm"))
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.base)
	return c.do(req)
}

// login posts the token and returns the CSRF token of the first page.
func (c *client) login(token string) string {
	c.t.Helper()
	r := c.post("/portal/login", url.Values{"token": {token}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/portal/" {
		c.t.Fatalf("login: %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
	return c.csrf("/portal/")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads page and returns the CSRF token of its forms.
func (c *client) csrf(page string) string {
	c.t.Helper()
	r := c.get(page)
	m := csrfRE.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token:\n%s", page, r.status, r.body)
	}
	return m[1]
}

// follow loads the page a redirect points to.
func (c *client) follow(r response) response {
	c.t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || loc == "" {
		c.t.Fatalf("want a 303 redirect, got %d %q:\n%s", r.status, loc, r.body)
	}
	return c.get(loc)
}

// waitLog waits until domain's plugin log, as the runtime merges it from
// every node's flushed rows, has a line containing text.
func (e *env) waitLog(t *testing.T, domain, text string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		lines, err := e.rt.PluginLogs(t.Context(), hook.Operator(), domain, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.Contains(l.Line, text) {
				return
			}
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("domain %s's plugin log never had %q: %+v", domain, text, lines)
		case <-tick.C:
		}
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookrt/hookd/internal/plugintest"
)

// The admin page's end-to-end test drives a real Chromium (Debian's
// package, /usr/bin/chromium) against the daemon run in-process. Without
// Chromium it skips, unless HOOKD_REQUIRE_CHROMIUM=1 (CI), which makes it
// fail instead. With HOOKD_ADMIN_SCREENSHOTS=<dir> it writes a screenshot
// of every page there (docs/admin/*.png come from it; CI leaves it unset,
// so the tests write nothing into the tree).
const (
	envRequireChromium = "HOOKD_REQUIRE_CHROMIUM"
	envChromium        = "HOOKD_CHROMIUM" // a browser binary other than the ones looked up
	envScreenshots     = "HOOKD_ADMIN_SCREENSHOTS"
)

// browserPatience bounds the browser part of the test: generous, as
// Chromium starts slowly on a loaded 2-core machine; it only catches a
// page that never shows what the test waits for.
const browserPatience = 4 * time.Minute

// chromium returns the browser to run, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv(envChromium), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv(envRequireChromium) == "1" {
		t.Fatalf("no Chromium found (looked for %s) but %s=1: the browser test must run; apt-get install -y chromium",
			strings.Join(candidates[1:], ", "), envRequireChromium)
	}
	t.Skipf("no Chromium found; apt-get install -y chromium to run the admin page in a browser (%s=1 makes this fail)", envRequireChromium)
	return ""
}

// browser is a headless Chromium with one tab, and the messages its pages
// wrote to the console.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	// shots is where screenshots go ("" for none).
	shots string

	mu      sync.Mutex
	console []string
}

// newBrowser starts Chromium with a fresh profile. The flags keep it from
// reaching out: this machine's closed network refuses Chromium's
// background connections, which would otherwise fill the log and slow it.
func newBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	// chromedp makes the profile directory in $TMPDIR and removes it when
	// the browser has stopped (killing what Chromium left running, which
	// t.TempDir's own cleanup could not): so $TMPDIR is a test directory.
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.WindowSize(1200, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // waits for the browser to stop and its profile to go
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, browserPatience)
	t.Cleanup(cancelTime)
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv(envScreenshots)}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if !consoleProblem(m) {
				continue
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
			b.mu.Unlock()
		}
	}()
	b.do(chromedp.EmulateViewport(1200, 800))
	return b
}

// do runs steps, failing the test with what the page showed.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.page())
	}
}

// open loads path and waits until sel is visible.
func (b *browser) open(path, sel string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// submit clicks a form's button and waits for the page it leads to, and
// then for sel on it.
func (b *browser) submit(button, sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		b.t.Fatalf("browser: click %s: %v\n%s", button, err, b.page())
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text returns the text of the element sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v\n%s", sel, err, b.page())
	}
	return s
}

// attr returns the attribute name of the element sel.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	r, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !r.Exists {
		b.t.Fatalf("browser: attribute %s of %s: %v\n%s", name, sel, err, b.page())
	}
	return r.Value
}

// location is the URL the tab shows.
func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// page is the current page's URL and text, for failure messages.
func (b *browser) page() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return "page " + u + ":\n" + s
}

// shot saves a screenshot of the viewport as name.png, when asked to.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// consoleProblem reports whether a console message is a problem of the
// page: an exception, an error or a warning (a CSP violation is one), but
// not the 401 of the wrong token the test types on purpose.
func consoleProblem(m chromedp.ConsoleMessage) bool {
	switch m.Type {
	case chromedp.ConsoleException, chromedp.ConsoleError, chromedp.ConsoleWarning:
	default:
		return false
	}
	return !(m.Source == "network" && strings.Contains(m.Text, "401") && strings.HasSuffix(m.URL, "/admin/login"))
}

// consoleMessages returns the problems the pages wrote to the console so
// far.
func (b *browser) consoleMessages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// TestAdminBrowser runs the daemon with a token and a JWT webhook whose
// receiver fails at first, so that a delivery goes dead, and then drives
// the admin page in Chromium as an operator would: log in through the
// form, find the dead letter, replay it and watch it turn delivered,
// disable a target, read a session's record, the plugins and the config,
// and log out. The pages must raise no console error (a CSP violation
// would be one).
func TestAdminBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen

	// The JWT receiver answers 500 until the test brings it up.
	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	var down atomic.Bool
	down.Store(true)
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "receiver down for maintenance")
			return
		}
		recv.ServeHTTP(w, r)
	}))
	t.Cleanup(hookSrv.Close)
	// The global events script acknowledges every event; hookd saves them
	// into their sessions' records.
	script := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<nomessage/>")
	}))
	t.Cleanup(script.Close)

	// A WASM plugin for domain "guarded", for the plugins page (built and
	// compiled once for every test binary; see TestServePlugins).
	guard := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
	writeKey(t, dir)
	tok := make([]byte, 16)
	rand.Read(tok)
	token := "adm-" + hex.EncodeToString(tok)
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// retry_schedule 2h with max_age 1h: the next attempt after a failure
	// would be past the maximum age, so a failed delivery is dead at once;
	// a replay gives it a fresh age. The first failure opens the JWT
	// webhook's breaker for a second; the replay's success closes it.
	cfg := fmt.Sprintf(`
[server]
listen = %q
token_file = "token"
server_id = "admin-test"
[store]
path = "data/hookd.db"
[delivery]
retry_schedule = ["2h"]
max_age = "1h"
breaker_threshold = 1
breaker_cooldown = "1s"
jitter = 0
timeout = "5s"
poll_interval = "20ms"
[jwt_webhook]
url = %q
private_key = "webhook.pem"
claims = { iss = "test-proxy" }
[jwt_webhook.events]
user_create = true
[http_events]
global = true
global_server = %q
global_path = "/events"
global_strict = true
save_to_session = true
per_domain = true
per_domain_strict = true
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
secret = %q
`, listen, hookSrv.URL+"/hook", strings.TrimPrefix(script.URL, "http://"), plugintest.CacheDir(t), guard, pluginSecret)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var code int
	logs := &lockedBuffer{}
	go func() {
		defer close(exited)
		code = run(ctx, []string{"serve", "-config", cfgPath}, io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(time.Minute):
			t.Error("serve did not stop")
		}
		if strings.Contains(logs.String(), token) {
			t.Error("the token is in hookd's log")
		}
		if t.Failed() {
			t.Logf("hookd log:\n%s", logs.String())
		}
	})
	waitHealthy(t, base, exited)

	userEvent := postEvent(t, base, token, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3",
		"USERNAME": "ann", "EMAIL": "ann@example.com"})
	for i := range 12 {
		sid := fmt.Sprintf("s-47%02d", i%4)
		name := []string{"NEWSESSION", "START", "STOP"}[i/4]
		postEvent(t, base, token, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": name, "DOMAIN_ID": "3", "SESSIONID": sid})
	}
	for _, addr := range []string{"192.0.2.1", "198.51.100.7"} {
		postEvent(t, base, token, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "guarded",
			"SESSIONID": "g-" + addr, "reasonAddress": addr})
	}
	dead := waitDeliveries(t, base, token, url.Values{"state": {"dead"}, "target": {"jwt_webhook"}, "event_id": {userEvent}})
	waitDeliveries(t, base, token, url.Values{"state": {"delivered"}, "target": {"http_events.global"}, "limit": {"15"}}, 15)
	waitDeliveries(t, base, token, url.Values{"state": {"delivered"}, "target": {"http_events.domain.guarded"}}, 2)
	down.Store(false) // the receiver is back

	// The daemon mounts the page under /admin/, and sends /admin there.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get(base + "/admin"); err != nil || resp.StatusCode/100 != 3 ||
		resp.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	b := newBrowser(t, exe, base)

	// Log in through the form.
	b.open("/admin/", "form.login")
	if loc := b.location(); loc != base+"/admin/login" {
		t.Fatalf("without a session the page is %s; want the login form", loc)
	}
	b.shot("login")
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), "wrong-token"))
	b.submit("form.login button", ".flash-error")
	if got := b.text(".flash-error"); !strings.Contains(got, "not the API token") {
		t.Errorf("a wrong token says %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), token)) // the form comes back empty
	b.submit("form.login button", "#deliveries")
	if loc := b.location(); loc != base+"/admin/" || strings.Contains(loc, token) {
		t.Fatalf("after login the page is %s", loc)
	}
	// The script draws the chart from /admin/stats.json (CSP allowing).
	b.do(chromedp.WaitVisible(chromedp.CSS("#chart-rate polyline")))
	b.shot("deliveries")

	// The dead letter, replayed from the dead-letters page.
	b.open("/admin/dead", "#deliveries")
	row := fmt.Sprintf(`tr[data-id="%d"]`, dead[0])
	b.do(chromedp.WaitVisible(chromedp.CSS(row)))
	if st := b.attr(row, "data-state"); st != "dead" {
		t.Fatalf("the dead letter's state: %s", st)
	}
	// It keeps the attempt's error and says why hookd gave up.
	if got := b.attr(row+" td.err", "title"); !strings.HasPrefix(got, "HTTP 500") ||
		!strings.HasSuffix(got, " — gave up: next attempt would pass the maximum age 1h") {
		t.Errorf("the dead letter's error: %q", got)
	}
	b.shot("dead")
	b.submit(row+" button", ".flash")
	if got := b.text(".flash"); got != fmt.Sprintf("Delivery %d is queued for another attempt.", dead[0]) {
		t.Errorf("after replay the page says %q", got)
	}
	recv.waitFor(t, "the replayed event", func() bool { return len(recv.got[userEvent]) == 1 })

	// Watch it turn delivered: the list of the event's deliveries, with the
	// page's auto-refresh on, until the row says so.
	b.open("/admin/?event_id="+userEvent+"&target=jwt_webhook", "#autorefresh")
	b.do(chromedp.Click(chromedp.CSS("#autorefresh")))
	b.do(chromedp.WaitVisible(chromedp.CSS(row + `[data-state="delivered"]`)))
	b.do(chromedp.Click(chromedp.CSS("#autorefresh"))) // off again, before typing into forms
	b.open(fmt.Sprintf("/admin/deliveries/%d", dead[0]), "#attempts")
	if st := b.attr("#delivery", "data-state"); st != "delivered" {
		t.Errorf("the delivery's page says %s", st)
	}
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#attempts tbody tr").length`)); err != nil || n != 2 {
		t.Errorf("attempts listed: %d, %v; want 2 (the failure and the replay)", n, err)
	}
	if got := b.text("#event"); !strings.Contains(got, "ann@example.com") {
		t.Errorf("the event's fields: %q", got)
	}
	b.shot("delivery")

	// The breaker opened at the failure and closed at the replay's success:
	// the targets page says so, with the cause, and the log once each.
	b.open("/admin/targets", `tr[data-target="jwt_webhook"] .breaker-change`)
	if got := b.text(`tr[data-target="jwt_webhook"] .breaker-change`); !strings.HasPrefix(got, "closed ") || !strings.Contains(got, ": HTTP 500") {
		t.Errorf("the breaker's last change: %q", got)
	}
	if n := strings.Count(logs.String(), "breaker opened"); n != 1 || !strings.Contains(logs.String(), "breaker closed") {
		t.Errorf("%d breaker opened lines; want one, and one closed:\n%s", n, logs.String())
	}

	// A paused target's delivery says it is held, and why.
	apiTargetAction(t, base, token, "jwt_webhook", "pause", "nightly maintenance")
	heldEvent := postEvent(t, base, token, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3",
		"USERNAME": "bob", "EMAIL": "bob@example.com"})
	held := waitDeliveries(t, base, token, url.Values{"state": {"pending"}, "target": {"jwt_webhook"}, "event_id": {heldEvent}})
	heldRow := fmt.Sprintf(`tr[data-id="%d"] .held`, held[0])
	b.open("/admin/?target=jwt_webhook", heldRow)
	if got := b.text(heldRow); got != "held: target paused by operator: nightly maintenance" {
		t.Errorf("the held delivery's row says %q", got)
	}
	b.shot("held")
	apiTargetAction(t, base, token, "jwt_webhook", "resume", "")
	recv.waitFor(t, "the held event, once resumed", func() bool { return len(recv.got[heldEvent]) == 1 })

	// Disable the JWT webhook, with a reason.
	b.open("/admin/targets", `tr[data-target="jwt_webhook"]`)
	b.do(chromedp.SendKeys(chromedp.CSS("#disable-jwt_webhook"), "receiver migrating"))
	b.submit(`tr[data-target="jwt_webhook"] form:has(input[value="disable"]) button`, `tr[data-target="jwt_webhook"][data-state="disabled"]`)
	if got := b.text(".flash"); got != "Target jwt_webhook is disabled." {
		t.Errorf("after disabling the page says %q", got)
	}
	if got := b.text(`tr[data-target="jwt_webhook"]`); !strings.Contains(got, "receiver migrating") || !strings.Contains(got, "by operator") {
		t.Errorf("the disabled target's row: %q", got)
	}
	if st := targetState(t, base, token, "jwt_webhook"); st != "disabled" {
		t.Errorf("the API says jwt_webhook is %s", st)
	}
	b.shot("targets")

	// A bulk replay into the disabled target is refused before anything is
	// requeued, naming its state; the operator may confirm or cancel.
	b.open("/admin/dead", "form.replay")
	b.do(chromedp.SetValue(chromedp.CSS(`form.replay select[name="target"]`), "jwt_webhook"))
	b.submit("form.replay button", "#refused")
	if got := b.text("#refused"); !strings.Contains(got, "target jwt_webhook is disabled by operator (receiver migrating)") {
		t.Errorf("the refused replay says %q", got)
	}
	b.shot("replay-refused")
	b.submit("#confirm a", "#deliveries")

	// A session's record.
	b.open("/admin/sessions", `input[name="id"]`)
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name="id"]`), "s-4701"))
	b.submit(`form.filters button`, "section.event")
	if got := b.text("main"); !strings.Contains(got, "NEWSESSION") || !strings.Contains(got, "STOP") || !strings.Contains(got, "http_events.global") {
		t.Errorf("the session's record: %q", got)
	}
	b.shot("sessions")

	b.open("/admin/plugins", `tr[data-domain="guarded"]`)
	if got := b.text(`tr[data-domain="guarded"]`); !strings.Contains(got, "session-guard") || !strings.Contains(got, "ok 2") {
		t.Errorf("the plugin's row: %q", got)
	}
	b.shot("plugins")
	b.open("/admin/config", "#config")
	conf := b.text("#config")
	if !strings.Contains(conf, `token_file = "`+filepath.Join(dir, "token")+`"`) || !strings.Contains(conf, "[jwt_webhook]") ||
		!strings.Contains(conf, `secret = "<redacted>"`) || strings.Contains(conf, token) || strings.Contains(conf, pluginSecret) {
		t.Errorf("the config page:\n%s", conf)
	}
	b.shot("config")

	// Log out: the page asks for the token again.
	b.submit("#tools form button", "form.login")
	b.open("/admin/targets", "form.login")

	for _, m := range b.consoleMessages() {
		t.Errorf("console: %s", m)
	}
}

// pluginSecret is the plugin config's secret, which the config page must
// not show.
const pluginSecret = "guard-s3cret"

// waitDeliveries polls the API until the query lists want deliveries (1
// by default), and returns their ids.
func waitDeliveries(t *testing.T, base, token string, q url.Values, want ...int) []int64 {
	t.Helper()
	n := 1
	if len(want) > 0 {
		n = want[0]
	}
	var list struct {
		Deliveries []struct {
			ID int64 `json:"id"`
		} `json:"deliveries"`
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/deliveries?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err == nil && len(list.Deliveries) == n {
			ids := make([]int64, n)
			for i, d := range list.Deliveries {
				ids[i] = d.ID
			}
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %s: %+v, %v; want %d", q.Encode(), list, err, n)
		}
	}
}

// targetState asks the API where a target stands.
func targetState(t *testing.T, base, token, name string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/targets", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Targets []struct{ Name, State string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, tg := range out.Targets {
		if tg.Name == name {
			return tg.State
		}
	}
	return "missing"
}

// apiTargetAction changes a target's state through the API.
func apiTargetAction(t *testing.T, base, token, name, action, reason string) {
	t.Helper()
	body := ""
	if reason != "" {
		body = fmt.Sprintf(`{"reason":%q}`, reason)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/targets/"+name+"/"+action, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", action, name, resp.Status)
	}
}

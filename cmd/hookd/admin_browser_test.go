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
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/webui/browsertest"
)

// The admin page's end-to-end test drives a real Chromium (Debian's
// package, /usr/bin/chromium) against the daemon run in-process;
// internal/webui/browsertest holds the browser it shares with the
// portal's test. Without Chromium it skips, unless
// HOOKD_REQUIRE_CHROMIUM=1 (CI), which makes it fail instead. With
// HOOKD_ADMIN_SCREENSHOTS=<dir> it writes a screenshot of every page
// there (docs/admin/*.png come from it; CI leaves it unset, so the tests
// write nothing into the tree).
const envScreenshots = "HOOKD_ADMIN_SCREENSHOTS"

// expectedConsole reports the console message the test provokes on
// purpose: the 401 of the wrong token it types.
func expectedConsole(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && strings.Contains(m.Text, "401") && strings.HasSuffix(m.URL, "/admin/login")
}

// TestAdminBrowser runs the daemon with a token and a JWT webhook whose
// receiver fails at first, so that a delivery goes dead, and then drives
// the admin page in Chromium as an operator would: log in through the
// form, find the dead letter, replay it and watch it turn delivered,
// disable a target, read a session's record, the plugins and the config,
// and log out. The pages must raise no console error (a CSP violation
// would be one).
func TestAdminBrowser(t *testing.T) {
	exe := browsertest.Chromium(t, "the admin page")
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

	b := browsertest.New(t, exe, base, browsertest.Options{Screenshots: os.Getenv(envScreenshots), Expected: expectedConsole})

	// Log in through the form.
	b.Open("/admin/", "form.login")
	if loc := b.Location(); loc != base+"/admin/login" {
		t.Fatalf("without a session the page is %s; want the login form", loc)
	}
	b.Shot("login")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), "wrong-token"))
	b.Submit("form.login button", ".flash-error")
	if got := b.Text(".flash-error"); !strings.Contains(got, "not the API token") {
		t.Errorf("a wrong token says %q", got)
	}
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), token)) // the form comes back empty
	b.Submit("form.login button", "#deliveries")
	if loc := b.Location(); loc != base+"/admin/" || strings.Contains(loc, token) {
		t.Fatalf("after login the page is %s", loc)
	}
	// The script draws the chart from /admin/stats.json (CSP allowing).
	b.Do(chromedp.WaitVisible(chromedp.CSS("#chart-rate polyline")))
	b.Shot("deliveries")

	// The dead letter, replayed from the dead-letters page.
	b.Open("/admin/dead", "#deliveries")
	row := fmt.Sprintf(`tr[data-id="%d"]`, dead[0])
	b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
	if st := b.Attr(row, "data-state"); st != "dead" {
		t.Fatalf("the dead letter's state: %s", st)
	}
	// It keeps the attempt's error and says why hookd gave up.
	if got := b.Attr(row+" td.err", "title"); !strings.HasPrefix(got, "HTTP 500") ||
		!strings.HasSuffix(got, " — gave up: next attempt would pass the maximum age 1h") {
		t.Errorf("the dead letter's error: %q", got)
	}
	b.Shot("dead")
	b.Submit(row+" button", ".flash")
	if got := b.Text(".flash"); got != fmt.Sprintf("Delivery %d is queued for another attempt.", dead[0]) {
		t.Errorf("after replay the page says %q", got)
	}
	recv.waitFor(t, "the replayed event", func() bool { return len(recv.got[userEvent]) == 1 })

	// Watch it turn delivered: the list of the event's deliveries, with the
	// page's auto-refresh on, until the row says so.
	b.Open("/admin/?event_id="+userEvent+"&target=jwt_webhook", "#autorefresh")
	b.Do(chromedp.Click(chromedp.CSS("#autorefresh")))
	b.Do(chromedp.WaitVisible(chromedp.CSS(row + `[data-state="delivered"]`)))
	b.Do(chromedp.Click(chromedp.CSS("#autorefresh"))) // off again, before typing into forms
	b.Open(fmt.Sprintf("/admin/deliveries/%d", dead[0]), "#attempts")
	if st := b.Attr("#delivery", "data-state"); st != "delivered" {
		t.Errorf("the delivery's page says %s", st)
	}
	if n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#attempts tbody tr").length`)); err != nil || n != 2 {
		t.Errorf("attempts listed: %d, %v; want 2 (the failure and the replay)", n, err)
	}
	if got := b.Text("#event"); !strings.Contains(got, "ann@example.com") {
		t.Errorf("the event's fields: %q", got)
	}
	b.Shot("delivery")

	// The breaker opened at the failure and closed at the replay's success:
	// the targets page says so, with the cause, and the log once each.
	b.Open("/admin/targets", `tr[data-target="jwt_webhook"] .breaker-change`)
	if got := b.Text(`tr[data-target="jwt_webhook"] .breaker-change`); !strings.HasPrefix(got, "closed ") || !strings.Contains(got, ": HTTP 500") {
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
	b.Open("/admin/?target=jwt_webhook", heldRow)
	if got := b.Text(heldRow); got != "held: target paused by operator: nightly maintenance" {
		t.Errorf("the held delivery's row says %q", got)
	}
	b.Shot("held")
	apiTargetAction(t, base, token, "jwt_webhook", "resume", "")
	recv.waitFor(t, "the held event, once resumed", func() bool { return len(recv.got[heldEvent]) == 1 })

	// Disable the JWT webhook, with a reason.
	b.Open("/admin/targets", `tr[data-target="jwt_webhook"]`)
	b.Do(chromedp.SendKeys(chromedp.CSS("#disable-jwt_webhook"), "receiver migrating"))
	b.Submit(`tr[data-target="jwt_webhook"] form:has(input[value="disable"]) button`, `tr[data-target="jwt_webhook"][data-state="disabled"]`)
	if got := b.Text(".flash"); got != "Target jwt_webhook is disabled." {
		t.Errorf("after disabling the page says %q", got)
	}
	if got := b.Text(`tr[data-target="jwt_webhook"]`); !strings.Contains(got, "receiver migrating") || !strings.Contains(got, "by operator") {
		t.Errorf("the disabled target's row: %q", got)
	}
	if st := targetState(t, base, token, "jwt_webhook"); st != "disabled" {
		t.Errorf("the API says jwt_webhook is %s", st)
	}
	b.Shot("targets")

	// A bulk replay into the disabled target is refused before anything is
	// requeued, naming its state; the operator may confirm or cancel.
	b.Open("/admin/dead", "form.replay")
	b.Do(chromedp.SetValue(chromedp.CSS(`form.replay select[name="target"]`), "jwt_webhook"))
	b.Submit("form.replay button", "#refused")
	if got := b.Text("#refused"); !strings.Contains(got, "target jwt_webhook is disabled by operator (receiver migrating)") {
		t.Errorf("the refused replay says %q", got)
	}
	b.Shot("replay-refused")
	b.Submit("#confirm a", "#deliveries")

	// A session's record.
	b.Open("/admin/sessions", `input[name="id"]`)
	b.Do(chromedp.SendKeys(chromedp.CSS(`input[name="id"]`), "s-4701"))
	b.Submit(`form.filters button`, "section.event")
	if got := b.Text("main"); !strings.Contains(got, "NEWSESSION") || !strings.Contains(got, "STOP") || !strings.Contains(got, "http_events.global") {
		t.Errorf("the session's record: %q", got)
	}
	b.Shot("sessions")

	b.Open("/admin/plugins", `tr[data-domain="guarded"]`)
	if got := b.Text(`tr[data-domain="guarded"]`); !strings.Contains(got, "session-guard") || !strings.Contains(got, "ok 2") {
		t.Errorf("the plugin's row: %q", got)
	}
	b.Shot("plugins")
	b.Open("/admin/config", "#config")
	conf := b.Text("#config")
	if !strings.Contains(conf, `token_file = "`+filepath.Join(dir, "token")+`"`) || !strings.Contains(conf, "[jwt_webhook]") ||
		!strings.Contains(conf, `secret = "<redacted>"`) || strings.Contains(conf, token) || strings.Contains(conf, pluginSecret) {
		t.Errorf("the config page:\n%s", conf)
	}
	b.Shot("config")

	// Log out: the page asks for the token again.
	b.Submit("#tools form button", "form.login")
	b.Open("/admin/targets", "form.login")

	for _, m := range b.Problems() {
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

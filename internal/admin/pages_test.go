package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/ops"
)

// TestPages: every page renders its data, with the menu and a form token.
func TestPages(t *testing.T) {
	t.Parallel()
	cfg := func() ([]byte, error) {
		return []byte("[store]\ndsn = \"postgres://hookd:<redacted>@db/hookd\"\n"), nil
	}
	c := setup(t, newFake(), admin.Options{Token: testToken, Config: cfg})
	c.login(testToken)
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/admin/", 200, []string{"<h1>Deliveries</h1>", `href="/admin/deliveries/3"`, "jwt_webhook", "http_events.global",
			`class="state state-dead"`, `class="state state-retrying"`, "6 delivered, 1 failed attempt, 1 dead",
			`data-src="/admin/stats.json"`, "Replay in bulk", "<select name=\"state\">\n<option>dead</option>", // the bulk replay's first choice
			`aria-label="Replay delivery 3"`, `aria-current="page"`}},
		{"/admin/dead", 200, []string{"<h1>Dead letters</h1>", `href="/admin/deliveries/3"`, "Replay in bulk"}},
		{"/admin/?state=retrying", 200, []string{`href="/admin/deliveries/2"`, "<option selected>retrying</option>"}},
		{"/admin/?target=nowhere", 200, []string{"No deliveries match.", "<option selected>nowhere</option>"}},
		{"/admin/deliveries/3", 200, []string{"<h1>Delivery 3</h1>", "USER_CREATE", "USERNAME", "12ms", "HTTP 500",
			"Replay now", "Discard", `id="attempts"`}},
		{"/admin/deliveries/1", 200, []string{"<h1>Delivery 1</h1>", "nomessage", "3ms", "USER_DELETE"}},
		{"/admin/targets", 200, []string{`data-target="jwt_webhook"`, `value="pause"`, `value="disable"`, `value="resume"`,
			`value="enable"`, "maintenance", "by operator", "HTTP 410: gone", "by hookd", `class="breaker breaker-open"`,
			`<label class="vh" for="disable-jwt_webhook">`,
			// The delivery settings of the one target that has them, secrets never among them.
			"<h2>Delivery settings</h2>", `<a href="#delivery-jwt_webhook">delivery settings</a>`,
			`<section class="delivery" id="delivery-jwt_webhook" data-target="jwt_webhook">`,
			`<dt>Headers</dt><dd><span class="mono">Authorization (from file hook.token)</span><br><span class="mono">X-Tenant &lt;i&gt;</span></dd>`,
			"<dt>Signing</dt><dd>standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem</dd>",
			"<dt>Mutual TLS</dt><dd>client certificate client.pem (CN=hookd), CA ca.pem</dd>",
			"<dt>Proxy</dt><dd>http://egress:3128 (from [delivery] proxy)</dd>",
			"<dt>Rate limit</dt><dd>50/s, burst 10: 25/s on this node of 2</dd>",
			`<dt>Ordered by</dt><dd class="mono">SESSIONID</dd>`}},
		{"/admin/sessions", 200, []string{`name="id"`, "save_to_session"}},
		{"/admin/sessions?id=5a1d", 200, []string{"NEWSESSION", "http_events.global", "xmlmsg: drop 5a1d", "ev-9"}},
		{"/admin/sessions?id=nope", 200, []string{"No event is recorded for session nope"}},
		{"/admin/plugins", 200, []string{`data-domain="6"`, "/etc/hookd/plugins/guard.wasm", "abababababab", "ok 12 · trap 1",
			"Reload now"}},
		{"/admin/config", 200, []string{"[store]", "postgres://hookd:&lt;redacted&gt;@db/hookd"}},
		{"/admin/deliveries/99", 404, []string{"delivery 99: not found"}},
		{"/admin/deliveries/x", 400, []string{"must be a positive integer"}},
		{"/admin/nope", 404, []string{"No such page"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := c.get(tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d:\n%s", r.status, tc.status, r.body)
			}
			if r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("content type %q", r.header.Get("Content-Type"))
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("page lacks %q:\n%s", w, r.body)
				}
			}
			if tc.status == 200 && !csrfRE.MatchString(r.body) {
				t.Errorf("page has no form token")
			}
		})
	}
}

// TestEscaping: text from outside (event fields, answers, reasons, plugin
// errors) is shown as text, never as markup.
func TestEscaping(t *testing.T) {
	t.Parallel()
	c := setup(t, newFake(), admin.Options{Token: testToken})
	c.login(testToken)
	for path, hostile := range map[string][]string{
		"/admin/deliveries/3": {`<script>alert("x")</script>`, `<body onload="evil()">`},
		"/admin/":             {"<b>boom</b>"},
		"/admin/targets":      {`"<window>"`, "<svg onload=x>", "X-Tenant <i>"},
		"/admin/plugins":      {"<img src=x onerror=alert(1)>"},
	} {
		body := c.get(path).body
		for _, h := range hostile {
			if strings.Contains(body, h) {
				t.Errorf("%s shows %q as markup", path, h)
			}
		}
	}
	body := c.get("/admin/deliveries/3").body
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the hostile field is not shown escaped:\n%s", body)
	}
	// A hostile session id from the query is echoed escaped too.
	body = c.get(`/admin/sessions?id=%22%3E%3Cscript%3Ex%3C%2Fscript%3E`).body
	if strings.Contains(body, `"><script>x</script>`) || !strings.Contains(body, "&lt;script&gt;x&lt;/script&gt;") {
		t.Errorf("the session id is not escaped:\n%s", body)
	}
}

// TestListFilters: the form's filters reach the backend, bad ones are
// refused with a message saying what is allowed, and pages link on.
func TestListFilters(t *testing.T) {
	t.Parallel()
	fb := newFake()
	for i := int64(4); i <= 120; i++ { // enough for two pages
		fb.deliveries = append([]hook.Delivery{{ID: i, EventID: "ev", Target: "jwt_webhook", State: hook.StateDelivered,
			CreatedAt: at, UpdatedAt: at}}, fb.deliveries...)
	}
	c := setup(t, fb, admin.Options{Token: testToken})
	c.login(testToken)

	before := time.Now()
	r := c.get("/admin/?state=delivered&target=jwt_webhook&event_id=ev&since=2h")
	f := fb.lastFilter()
	if r.status != 200 || f.State != hook.StateDelivered || f.Target != "jwt_webhook" || f.EventID != "ev" || f.Limit != 51 {
		t.Fatalf("%d, filter %+v", r.status, f)
	}
	if d := before.Sub(f.Since); d < 2*time.Hour-time.Second || d > 2*time.Hour+time.Minute {
		t.Errorf("since=2h gave %s", f.Since)
	}
	if strings.Count(r.body, "<tr data-id=") != 50 {
		t.Errorf("want a page of 50 rows, got %d", strings.Count(r.body, "<tr data-id="))
	}
	older := `href="/admin/?before=71&amp;event_id=ev&amp;since=2h&amp;state=delivered&amp;target=jwt_webhook"`
	if !strings.Contains(r.body, older) {
		t.Fatalf("no link to the older page (%s):\n%s", older, r.body)
	}
	r = c.get("/admin/?before=71&event_id=ev&since=2h&state=delivered&target=jwt_webhook")
	if f := fb.lastFilter(); f.BeforeID != 71 || !strings.Contains(r.body, "« Newest") || !strings.Contains(r.body, `href="/admin/deliveries/70"`) {
		t.Errorf("the second page: filter %+v\n%s", f, r.body)
	}

	for _, tc := range []struct{ query, want string }{
		{"state=lost", "state &#34;lost&#34; is not one of pending, retrying, delivered, dead, discarded"},
		{"since=yesterday", "since &#34;yesterday&#34;: must be a duration back from now"},
		{"before=-4", "before &#34;-4&#34;: must be a delivery id"},
		{"target=" + strings.Repeat("t", 300), "a target name is at most 255"},
	} {
		r := c.get("/admin/?" + tc.query)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("?%.40s: %d, want 400 saying %q:\n%s", tc.query, r.status, tc.want, r.body)
		}
	}
	for q, want := range map[string]time.Time{
		"since=2026-11-29T09:30:00Z": time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"since=2026-11-29T09:30":     time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"since=2026-11-29+09:30":     time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"since=2026-11-29":           time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
	} {
		if r := c.get("/admin/?" + q); r.status != 200 || !fb.lastFilter().Since.Equal(want) {
			t.Errorf("?%s: %d, since %s; want %s", q, r.status, fb.lastFilter().Since, want)
		}
	}
	c.get("/admin/dead?state=delivered")
	if f := fb.lastFilter(); f.State != hook.StateDead {
		t.Errorf("the dead letters listed state %q", f.State)
	}
}

// TestStatsJSON: the chart's data, one column per series.
func TestStatsJSON(t *testing.T) {
	t.Parallel()
	c := setup(t, newFake(), admin.Options{Token: testToken})
	c.login(testToken)
	r := c.get("/admin/stats.json")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
	}
	var got struct {
		IntervalMS int64     `json:"interval_ms"`
		End        int64     `json:"end_ms"`
		Delivered  []int     `json:"delivered"`
		Failed     []int     `json:"failed"`
		Dead       []int     `json:"dead"`
		P50        []float64 `json:"p50_ms"`
		P99        []float64 `json:"p99_ms"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	n := ops.StatsWindow
	if got.IntervalMS != 1000 || got.End != at.UnixMilli() || len(got.Delivered) != n || len(got.Failed) != n ||
		len(got.Dead) != n || len(got.P50) != n || len(got.P99) != n {
		t.Fatalf("shape: %+v", got)
	}
	if got.Delivered[n-1] != 6 || got.Failed[n-1] != 1 || got.Dead[n-1] != 1 || got.P50[n-1] != 3 || got.P99[n-1] != 40 {
		t.Errorf("last second: %d %d %d %v %v", got.Delivered[n-1], got.Failed[n-1], got.Dead[n-1], got.P50[n-1], got.P99[n-1])
	}
}

// TestConfigPage: without a config func, or when it fails, the page says
// so (and the error goes to the log, not the page).
func TestConfigPage(t *testing.T) {
	t.Parallel()
	c := setup(t, newFake(), admin.Options{Token: testToken})
	c.login(testToken)
	if r := c.get("/admin/config"); r.status != 200 || !strings.Contains(r.body, "not available") {
		t.Errorf("no config: %d\n%s", r.status, r.body)
	}
	failing := func() ([]byte, error) { return nil, errors.New("encode: secret detail") }
	c = setup(t, newFake(), admin.Options{Token: testToken, Config: failing})
	c.login(testToken)
	if r := c.get("/admin/config"); r.status != 200 || !strings.Contains(r.body, "cannot be shown") || strings.Contains(r.body, "secret detail") {
		t.Errorf("a failing config: %d\n%s", r.status, r.body)
	}
}

package admin_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/admin"
)

// syncBuffer is a log sink the handler writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogin(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	c := setup(t, newFake(), admin.Options{Token: testToken, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	// Every page sends a visitor without a session to the login form.
	for _, p := range []string{"/admin/", "/admin/dead", "/admin/targets", "/admin/deliveries/3", "/admin/config"} {
		if r := c.get(p); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
			t.Errorf("GET %s without a session: %d %q; want 303 to /admin/login", p, r.status, r.header.Get("Location"))
		}
	}
	if r := c.get("/admin/stats.json"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "log in") {
		t.Errorf("stats.json without a session: %d %s", r.status, r.body)
	}
	r := c.get("/admin/login")
	if r.status != http.StatusOK || !strings.Contains(r.body, `<label for="token">`) || !strings.Contains(r.body, `type="password"`) {
		t.Fatalf("login form: %d\n%s", r.status, r.body)
	}

	for _, bad := range []string{"", "wrong", testToken + "x", strings.Repeat("a", 10000)} {
		r := c.post("/admin/login", url.Values{"token": {bad}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not the API token") {
			t.Errorf("login with %.10q: %d\n%s", bad, r.status, r.body)
		}
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("a failed login set a cookie: %v", r.header.Values("Set-Cookie"))
		}
		if bad != "" && strings.Contains(r.body, bad) {
			t.Errorf("the login page echoes the pasted token")
		}
	}
	if r := c.get("/admin/"); r.status != http.StatusSeeOther {
		t.Fatalf("a failed login let the visitor in: %d", r.status)
	}

	r = c.post("/admin/login", url.Values{"token": {" " + testToken + "\n"}}) // as pasted, with blanks
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Fatalf("login with the token: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"hookd_admin=", "Path=/admin/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("a cookie over plain HTTP is marked Secure: %q", cookie)
	}
	if strings.Contains(cookie, testToken) {
		t.Errorf("the cookie holds the token")
	}
	page := c.get("/admin/")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Log out") {
		t.Fatalf("after login: %d\n%s", page.status, page.body)
	}
	if r := c.get("/admin/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("the login form for a logged-in operator: %d", r.status)
	}
	for _, p := range []string{"/admin/", "/admin/dead", "/admin/targets", "/admin/sessions?id=5a1d", "/admin/plugins", "/admin/config", "/admin/deliveries/3"} {
		if r := c.get(p); strings.Contains(r.body, testToken) {
			t.Errorf("GET %s shows the token", p)
		}
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token is logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "login with a wrong token") {
		t.Errorf("failed logins are not logged:\n%s", logs.String())
	}

	// Logging out ends the session on the server, not only in the browser.
	csrf := c.csrf("/admin/")
	jarCookies := c.http.Jar.Cookies(mustURL(t, c.base+"/admin/"))
	r = c.post("/admin/logout", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" ||
		!strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q %q", r.status, r.header.Get("Location"), r.header.Get("Set-Cookie"))
	}
	req, _ := http.NewRequest(http.MethodGet, c.base+"/admin/", nil)
	for _, ck := range jarCookies {
		req.AddCookie(ck) // the old cookie, replayed
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session cookie still works after logout: %d", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	clk := &clock{now: at}
	c := setup(t, newFake(), admin.Options{Token: testToken, SessionTTL: time.Hour, Now: clk.Now})
	csrf := c.login(testToken)
	clk.add(59 * time.Minute)
	if r := c.get("/admin/targets"); r.status != http.StatusOK {
		t.Fatalf("a session before its end: %d", r.status)
	}
	clk.add(time.Minute)
	if r := c.get("/admin/targets"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Errorf("an ended session: %d; want 303 to the login form", r.status)
	}
	if r := c.post("/admin/deliveries/3/retry", url.Values{"csrf": {csrf}}); r.status != http.StatusForbidden ||
		!strings.Contains(r.body, "session has ended") {
		t.Errorf("an action of an ended session: %d\n%s", r.status, r.body)
	}
}

// TestSessionsBounded: logins beyond MaxSessions push out the session
// closest to its end, not the newest.
func TestSessionsBounded(t *testing.T) {
	t.Parallel()
	clk := &clock{now: at}
	fb := newFake()
	first := setup(t, fb, admin.Options{Token: testToken, MaxSessions: 2, Now: clk.Now})
	first.login(testToken)
	clk.add(time.Minute)
	second := first.another()
	second.login(testToken)
	clk.add(time.Minute)
	third := first.another()
	third.login(testToken)
	if r := first.get("/admin/targets"); r.status != http.StatusSeeOther {
		t.Errorf("the oldest session survived a full store: %d", r.status)
	}
	for i, c := range []*client{second, third} {
		if r := c.get("/admin/targets"); r.status != http.StatusOK {
			t.Errorf("session %d: %d", i+2, r.status)
		}
	}
}

// TestCSRF: an action needs the session's CSRF token and a same-origin
// request; refusals change nothing.
func TestCSRF(t *testing.T) {
	t.Parallel()
	fb := newFake()
	c := setup(t, fb, admin.Options{Token: testToken})
	csrf := c.login(testToken)
	otherCSRF := c.another().login(testToken)

	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
		want    string
	}{
		{"no csrf token", url.Values{}, nil, "CSRF token is missing"},
		{"wrong csrf token", url.Values{"csrf": {csrf + "x"}}, nil, "CSRF token is missing"},
		{"another session's token", url.Values{"csrf": {otherCSRF}}, nil, "CSRF token is missing"},
		{"foreign origin", url.Values{"csrf": {csrf}}, []string{"Origin", "https://evil.example"}, "is not this site"},
		{"null origin, no referer", url.Values{"csrf": {csrf}}, []string{"Origin", "null"}, "neither an Origin nor a Referer"},
		{"no origin, foreign referer", url.Values{"csrf": {csrf}}, []string{"Origin", "", "Referer", "https://evil.example/x"}, "is not this site"},
		{"no origin, no referer", url.Values{"csrf": {csrf}}, []string{"Origin", ""}, "neither an Origin nor a Referer"},
		{"cross-site fetch", url.Values{"csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}, "another site"},
		{"https origin on another port", url.Values{"csrf": {csrf}}, []string{"Origin", "https://127.0.0.1:1"}, "is not this site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/admin/deliveries/3/retry", tc.form, tc.headers...)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, tc.want) {
				t.Errorf("%d, want 403 saying %q:\n%s", r.status, tc.want, r.body)
			}
		})
	}
	if calls := fb.Calls(); len(calls) != 0 {
		t.Fatalf("refused requests reached the backend: %v", calls)
	}
	// The login form checks the origin too.
	if r := c.post("/admin/login", url.Values{"token": {testToken}}, "Origin", "https://evil.example"); r.status != http.StatusForbidden {
		t.Errorf("a cross-origin login: %d", r.status)
	}
	// The same form from this origin, by Origin or by Referer, goes through.
	if r := c.post("/admin/deliveries/3/retry", url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "same-origin"); r.status != http.StatusSeeOther {
		t.Errorf("a same-origin action: %d\n%s", r.status, r.body)
	}
	if r := c.post("/admin/deliveries/3/discard", url.Values{"csrf": {csrf}}, "Origin", "", "Referer", c.base+"/admin/deliveries/3"); r.status != http.StatusSeeOther {
		t.Errorf("an action with a same-origin Referer: %d\n%s", r.status, r.body)
	}
	if got := fb.Calls(); strings.Join(got, ";") != "retry 3;discard 3" {
		t.Errorf("calls %v", got)
	}
	// A form too large is refused before anything is done.
	big := url.Values{"csrf": {csrf}, "reason": {strings.Repeat("x", 20<<10)}}
	if r := c.post("/admin/targets/action", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 20 KiB form: %d", r.status)
	}
}

// TestGetChangesNothing: every page, loaded with every parameter, calls
// nothing that changes state; and an action cannot be reached with GET.
func TestGetChangesNothing(t *testing.T) {
	t.Parallel()
	fb := newFake()
	c := setup(t, fb, admin.Options{Token: testToken})
	c.login(testToken)
	for _, p := range []string{"/admin/", "/admin/?state=dead&target=jwt_webhook&since=1h&before=3", "/admin/dead",
		"/admin/deliveries/3", "/admin/targets", "/admin/sessions?id=5a1d", "/admin/plugins", "/admin/config",
		"/admin/stats.json", "/admin/deliveries/3/retry", "/admin/deliveries/replay", "/admin/plugins/reload",
		"/admin/targets/action?name=jwt_webhook&action=disable", "/admin/logout"} {
		c.get(p)
	}
	if calls := fb.Calls(); len(calls) != 0 {
		t.Errorf("GET requests changed something: %v", calls)
	}
	if r := c.get("/admin/deliveries/3/retry"); r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
		t.Errorf("GET of an action: %d", r.status)
	}
}

// TestSecurityHeaders: every answer, pages, errors and files alike.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	c := setup(t, newFake(), admin.Options{Token: testToken})
	check := func(what string, r response) {
		t.Helper()
		h := r.header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", what, csp, want)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP %q allows %s", what, csp, bad)
			}
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", what, h)
		}
	}
	check("login form", c.get("/admin/login"))
	check("redirect", c.get("/admin/"))
	check("not found", c.get("/admin/nope"))
	check("bad login", c.post("/admin/login", url.Values{"token": {"x"}}))
	c.login(testToken)
	check("deliveries", c.get("/admin/"))
	check("stats", c.get("/admin/stats.json"))
	css := c.get("/admin/static/hookd.css")
	check("stylesheet", css)
	js := c.get("/admin/static/admin.js")
	check("script", js)
	if css.header.Get("Content-Type") != "text/css; charset=utf-8" || js.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("asset types: %q, %q", css.header.Get("Content-Type"), js.header.Get("Content-Type"))
	}
	if r := c.get("/admin/static/nope.js"); r.status != http.StatusNotFound {
		t.Errorf("an unknown asset: %d", r.status)
	}
	// The page loads nothing from elsewhere, and has no inline script or style.
	page := c.get("/admin/").body
	for _, bad := range []string{"<script>", "style=", "onclick=", "onload=", "http://", "https://", "//cdn"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q", bad)
		}
	}
}

// TestNoToken: without a token (loopback), no login is asked, but actions
// still need the CSRF token of the session the first page made.
func TestNoToken(t *testing.T) {
	t.Parallel()
	fb := newFake()
	c := setup(t, fb, admin.Options{})
	if r := c.get("/admin/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("the login form without a token: %d", r.status)
	}
	r := c.get("/admin/")
	if r.status != http.StatusOK || strings.Contains(r.body, "Log out") {
		t.Fatalf("the first page without a token: %d (a log-out button is pointless)\n%s", r.status, r.body)
	}
	if r := c.post("/admin/deliveries/3/retry", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("an action without a CSRF token: %d", r.status)
	}
	csrf := c.csrf("/admin/")
	if r := c.post("/admin/deliveries/3/retry", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Errorf("an action with the token: %d\n%s", r.status, r.body)
	}
	if got := fb.Calls(); len(got) != 1 || got[0] != "retry 3" {
		t.Errorf("calls %v", got)
	}
}

// TestLoginBackoff: an address that keeps pasting wrong tokens is answered
// 429 with Retry-After, its tokens unchecked (the right one too), until
// its wait is over; before, 300 wrong logins in 6 s were all checked and
// the right one then worked at once. Another address is not slowed, and a
// right token clears the address.
func TestLoginBackoff(t *testing.T) {
	t.Parallel()
	clk := &clock{now: at}
	var logs syncBuffer
	c := setup(t, newFake(), admin.Options{Token: testToken, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	checked := 0
	var last response
	for range 300 {
		last = c.post("/admin/login", url.Values{"token": {"guess"}})
		switch last.status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("a wrong token answered %d:\n%s", last.status, last.body)
		}
	}
	if checked != 6 {
		t.Errorf("%d of 300 wrong tokens were checked, want 6 (5 free, then a wait)", checked)
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") != "1" ||
		!strings.Contains(last.body, "Too many wrong tokens") {
		t.Fatalf("after 300 wrong tokens: %d Retry-After %q\n%s", last.status, last.header.Get("Retry-After"), last.body)
	}
	if n := strings.Count(logs.String(), "login with a wrong token"); n != 6 {
		t.Errorf("%d log lines for wrong logins, want one per token checked (6)", n)
	}
	if r := c.post("/admin/login", url.Values{"token": {testToken}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the right token while the address waits: %d, want 429 (unchecked)", r.status)
	}
	clk.add(time.Second)
	if r := c.post("/admin/login", url.Values{"token": {"guess"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong token after the wait: %d, want 401", r.status)
	}
	if r := c.post("/admin/login", url.Values{"token": {testToken}}); r.status != http.StatusTooManyRequests ||
		r.header.Get("Retry-After") != "2" {
		t.Errorf("after one more wrong token: %d Retry-After %q, want 429 and 2 (doubled)", r.status, r.header.Get("Retry-After"))
	}
	clk.add(2 * time.Second)
	c.login(testToken)
	// The right token cleared the address: typos are free again.
	other := c.another()
	for range 5 {
		if r := other.post("/admin/login", url.Values{"token": {"typo"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("a typo after a good login: %d, want 401", r.status)
		}
	}
}

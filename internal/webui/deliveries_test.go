package webui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// logBackend is a delivery log of two deliveries: 1 of domain a's
// target, 2 of domain b's, both dead.
type logBackend struct{}

func (logBackend) ListDeliveries(_ context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	var out []hook.Delivery
	for id := int64(2); id >= 1; id-- {
		if d, _ := (logBackend{}).Delivery(context.Background(), id); f.Target == "" || d.Target == f.Target {
			out = append(out, *d)
		}
	}
	return out, nil
}

func (logBackend) Delivery(_ context.Context, id int64) (*hook.Delivery, error) {
	if id < 1 || id > 2 {
		return nil, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	dom := map[int64]string{1: "a", 2: "b"}[id]
	return &hook.Delivery{ID: id, EventID: fmt.Sprintf("event-%d", id), Target: ops.DomainTarget(dom), State: hook.StateDead,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil
}
func (logBackend) Retry(context.Context, int64) error       { return nil }
func (logBackend) RetryForced(context.Context, int64) error { return nil }
func (logBackend) Discard(context.Context, int64) error     { return nil }
func (logBackend) RetryMatching(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
func (logBackend) RetryMatchingForced(context.Context, hook.DeliveryFilter) (int, error) {
	return 0, nil
}
func (logBackend) SessionEvents(context.Context, string) ([]hook.SessionEvent, error) {
	return nil, nil
}
func (logBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) {
	return []hook.TargetStatus{{Name: ops.DomainTarget("a")}, {Name: ops.DomainTarget("b")}}, nil
}
func (logBackend) Plugins() []hook.PluginStatus { return nil }

// deliveriesSite serves the delivery-log pages over logBackend at prefix,
// in the shared frame and pages (no assets of its own but the list's
// overview and the login form), logged in as who.
func deliveriesSite(t *testing.T, prefix string, who hook.Principal, scoped bool) (get, post func(path string) (int, string)) {
	t.Helper()
	room := ops.New(logBackend{}, ops.Options{})
	check := func(_ context.Context, token string) (hook.Principal, error) {
		if token == "good" {
			return who, nil
		}
		return hook.Principal{}, hook.ErrNotFound
	}
	s := NewSite(Options{Prefix: prefix, Cookie: "c", Name: "test", Assets: siteAssets,
		Pages: []string{"login", "error", "deliveries", "delivery", "sessions"}, Menu: []MenuItem{MenuDeliveries, MenuDead, MenuSessions}})
	views := NewDeliveries(s, DeliveriesOptions{Scoped: scoped, Scope: func(se *Session) ops.Scope { return room.Scope(se.Who) }})
	for _, r := range append(s.Common(check, "wrong", Shared), views.Routes()...) {
		s.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("POST", prefix+"login", url.Values{"token": {"good"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	_, page := do("GET", prefix, nil)
	_, rest, _ := strings.Cut(page, `name="csrf" value="`)
	csrf, _, _ := strings.Cut(rest, `"`)
	get = func(path string) (int, string) { return do("GET", path, nil) }
	post = func(path string) (int, string) { return do("POST", path, url.Values{"csrf": {csrf}}) }
	return get, post
}

// TestDeliveriesScoped: one set of delivery-log pages serves the
// operator's site and a domain's: the operator's list shows every target
// with a target column and filter; the domain's shows only its own
// deliveries, without them, and a delivery of another domain is a 404
// page on every page and action, as one that exists nowhere (where the
// operator's site gets a message for an unknown one), and a session with
// none of its events is as if unknown.
func TestDeliveriesScoped(t *testing.T) {
	t.Parallel()
	get, post := deliveriesSite(t, "/admin/", hook.Operator(), false)
	code, body := get("/admin/")
	if code != http.StatusOK || !strings.Contains(body, `data-id="1"`) || !strings.Contains(body, `data-id="2"`) ||
		!strings.Contains(body, `<th scope="col">Target</th>`) || !strings.Contains(body, `<select name="target">`) {
		t.Errorf("the operator's list: %d\n%s", code, body)
	}
	if !strings.Contains(body, `<a href="/admin/dead">Dead letters</a>`) || !strings.Contains(body, "hookd <span>test</span>") {
		t.Errorf("the shared frame's menu and name are missing:\n%s", body)
	}
	if code, _ := post("/admin/deliveries/9/retry"); code != http.StatusSeeOther {
		t.Errorf("the operator's retry of an unknown delivery: %d; want a message on the page it came from", code)
	}

	get, post = deliveriesSite(t, "/portal/", hook.Principal{Domain: "a"}, true)
	code, body = get("/portal/?target=" + url.QueryEscape(ops.DomainTarget("b")))
	if code != http.StatusOK || !strings.Contains(body, `data-id="1"`) || strings.Contains(body, `data-id="2"`) ||
		strings.Contains(body, `<th scope="col">Target</th>`) || strings.Contains(body, `name="target"`) ||
		!strings.Contains(body, "every delivery of your domain") {
		t.Errorf("the domain's list: %d\n%s", code, body)
	}
	if code, _ := get("/portal/deliveries/2"); code != http.StatusNotFound {
		t.Errorf("another domain's delivery: %d; want 404", code)
	}
	for _, action := range []string{"retry", "discard"} {
		for _, id := range []string{"2", "9"} {
			if code, body := post("/portal/deliveries/" + id + "/" + action); code != http.StatusNotFound {
				t.Errorf("%s of delivery %s: %d; want 404\n%s", action, id, code, body)
			}
		}
	}
	if code, body := get("/portal/deliveries/x"); code != http.StatusBadRequest || !strings.Contains(body, `Delivery id &#34;x&#34;: must be a positive integer.`) {
		t.Errorf("a delivery id that is none: %d\n%s", code, body)
	}
	if code, body := get("/portal/sessions?id=s1"); code != http.StatusNotFound || !strings.Contains(body, "No event of your domain") {
		t.Errorf("a session of no event: %d\n%s", code, body)
	}
}

// siteAssets are a site's assets that leave everything to the shared
// frame and pages but the list's overview (none) and the login's label.
var siteAssets = os.DirFS("testdata/site")

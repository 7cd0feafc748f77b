package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// fakeBackend serves fixed data and records every call that changes
// something, so that tests can tell that a GET changed nothing.
type fakeBackend struct {
	mu         sync.Mutex
	deliveries []hook.Delivery
	detail     map[int64]*hook.Delivery
	targets    []hook.TargetStatus
	sessions   map[string][]hook.SessionEvent
	plugins    []hook.PluginStatus
	stats      ops.Stats
	actErr     error // returned by every action when set
	reloadErr  error
	refused    error // returned by Retry and RetryMatching (not forced) when set

	calls   []string
	filters []hook.DeliveryFilter
}

var _ admin.Backend = (*fakeBackend)(nil)

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// Calls returns the changing calls made so far.
func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) lastFilter() hook.DeliveryFilter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.filters) == 0 {
		return hook.DeliveryFilter{}
	}
	return f.filters[len(f.filters)-1]
}

func (f *fakeBackend) ListDeliveries(_ context.Context, flt hook.DeliveryFilter) ([]hook.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, flt)
	var out []hook.Delivery
	for _, d := range f.deliveries {
		if (flt.State == "" || d.State == flt.State) && (flt.Target == "" || d.Target == flt.Target) &&
			(flt.BeforeID == 0 || d.ID < flt.BeforeID) && (flt.EventID == "" || d.EventID == flt.EventID) {
			out = append(out, d)
		}
		if flt.Limit > 0 && len(out) == flt.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeBackend) Delivery(_ context.Context, id int64) (*hook.Delivery, error) {
	if d, ok := f.detail[id]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
}

func (f *fakeBackend) Retry(_ context.Context, id int64) error {
	if f.refused != nil {
		return f.refused
	}
	f.record("retry %d", id)
	return f.actErr
}

func (f *fakeBackend) Discard(_ context.Context, id int64) error {
	f.record("discard %d", id)
	return f.actErr
}

func (f *fakeBackend) RetryMatching(_ context.Context, flt hook.DeliveryFilter) (int, error) {
	since := ""
	if !flt.Since.IsZero() {
		since = flt.Since.UTC().Format(time.RFC3339)
	}
	if f.refused != nil {
		return 0, f.refused
	}
	f.record("replay state=%s target=%s since=%s", flt.State, flt.Target, since)
	return 3, f.actErr
}

func (f *fakeBackend) RetryForced(_ context.Context, id int64) error {
	f.record("retry -force %d", id)
	return f.actErr
}

func (f *fakeBackend) RetryMatchingForced(_ context.Context, flt hook.DeliveryFilter) (int, error) {
	f.record("replay -force state=%s target=%s", flt.State, flt.Target)
	return 3, f.actErr
}

func (f *fakeBackend) SessionEvents(_ context.Context, id string) ([]hook.SessionEvent, error) {
	return f.sessions[id], nil
}

func (f *fakeBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) {
	return f.targets, nil
}

func (f *fakeBackend) DisableTarget(_ context.Context, name, reason string) error {
	f.record("disable %s: %s", name, reason)
	return f.actErr
}

func (f *fakeBackend) PauseTarget(_ context.Context, name, reason string) error {
	f.record("pause %s: %s", name, reason)
	return f.actErr
}

func (f *fakeBackend) EnableTarget(_ context.Context, name string) error {
	f.record("enable %s", name)
	return f.actErr
}

func (f *fakeBackend) ResumeTarget(_ context.Context, name string) error {
	f.record("resume %s", name)
	return f.actErr
}

func (f *fakeBackend) Reload(context.Context) error {
	f.record("reload")
	return f.reloadErr
}

func (f *fakeBackend) Plugins() []hook.PluginStatus { return f.plugins }
func (f *fakeBackend) Stats() ops.Stats             { return f.stats }

// at is a fixed time the fake data is stamped with.
var at = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// newFake returns a backend with a little of everything, hostile text
// included where an operator's page shows data from outside.
func newFake() *fakeBackend {
	next := at.Add(time.Minute)
	since := at.Add(-time.Hour)
	f := &fakeBackend{
		deliveries: []hook.Delivery{
			{ID: 3, EventID: "ev-3", Target: "jwt_webhook", State: hook.StateDead, Attempts: 1, CreatedAt: at, UpdatedAt: at,
				LastStatus: 500, LastError: "HTTP 500: <b>boom</b>"},
			{ID: 2, EventID: "ev-2", Target: "http_events.global", State: hook.StateRetrying, Attempts: 2, CreatedAt: at,
				UpdatedAt: at, NextAttempt: &next},
			{ID: 1, EventID: "ev-1", Target: "jwt_webhook", State: hook.StateDelivered, Attempts: 1, CreatedAt: at, UpdatedAt: at,
				LastStatus: 204},
		},
		detail: map[int64]*hook.Delivery{
			3: {ID: 3, EventID: "ev-3", Target: "jwt_webhook", State: hook.StateDead, Attempts: 1, CreatedAt: at, UpdatedAt: at,
				LastStatus: 500, LastError: "HTTP 500",
				Event: map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "EVENT_ID": "ev-3",
					"USERNAME": `<script>alert("x")</script>`},
				History: []hook.Attempt{{N: 1, At: at, Latency: 12 * time.Millisecond, Status: 500, Error: "HTTP 500",
					Response: `<html><body onload="evil()">down</body></html>`}}},
			1: {ID: 1, EventID: "ev-1", Target: "jwt_webhook", State: hook.StateDelivered, Attempts: 1, CreatedAt: at, UpdatedAt: at,
				Event:   map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_DELETE"},
				History: []hook.Attempt{{N: 1, At: at, Latency: 3 * time.Millisecond, Status: 204, Summary: "nomessage"}}},
		},
		targets: []hook.TargetStatus{
			{Name: "jwt_webhook", State: hook.TargetEnabled, Breaker: "closed", Pending: 1, OldestPending: &since,
				LastError: "HTTP 500", LastErrorAt: &since, Delivery: &hook.DeliveryView{
					Headers:   []string{"Authorization (from file hook.token)", `X-Tenant <i>`},
					Signing:   "standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem",
					TLS:       "client certificate client.pem (CN=hookd), CA ca.pem",
					Proxy:     "http://egress:3128 (from [delivery] proxy)",
					Filter:    `events NEWSESSION; reasonSoftwareType in ["<svg onload=x>"]`,
					RateLimit: "50/s, burst 10: 25/s on this node of 2",
					OrderedBy: "SESSIONID",
				}},
			{Name: `http_events.global`, State: hook.TargetPaused, Reason: `maintenance "<window>"`, ChangedBy: "operator",
				Since: &since, Breaker: "open", BreakerUntil: &next, InFlight: 2},
			{Name: "http_events.domain.5", State: hook.TargetDisabled, Reason: "HTTP 410: gone", ChangedBy: "hookd", Breaker: "closed"},
		},
		sessions: map[string][]hook.SessionEvent{
			"5a1d": {{EventID: "ev-9", CreatedAt: at, Fields: map[string]string{"EVENT": "NEWSESSION", "SESSIONID": "5a1d"},
				Targets: []hook.TargetOutcome{{Target: "http_events.global", State: hook.StateDelivered, Attempts: 1, Status: 200,
					Summary: "xmlmsg: drop 5a1d", UpdatedAt: at}}}},
		},
		plugins: []hook.PluginStatus{{Domain: "6", Path: "/etc/hookd/plugins/guard.wasm", SHA256: strings.Repeat("ab", 32),
			Instances: 4, Calls: map[string]int64{hook.PluginOK: 12, hook.PluginTrap: 1, hook.PluginDeadline: 0}, Reloads: 2, LastReload: &since,
			LastError: `abi: <img src=x onerror=alert(1)>`}},
	}
	f.stats = ops.Stats{Interval: time.Second, Buckets: make([]ops.StatsBucket, ops.StatsWindow)}
	for i := range f.stats.Buckets {
		f.stats.Buckets[i].Start = at.Add(time.Duration(i-ops.StatsWindow+1) * time.Second)
	}
	last := &f.stats.Buckets[ops.StatsWindow-1]
	last.Delivered, last.Failed, last.Dead, last.P50, last.P99 = 6, 1, 1, 3*time.Millisecond, 40*time.Millisecond
	return f
}

const testToken = "t0ken-s3cret"

// client is a browser stand-in: it keeps cookies, does not follow
// redirects (tests look at them), and sends Origin with its POSTs.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

// web is the same client as webuitest's, which the portal's tests share.
func (c *client) web() *webuitest.Client {
	return &webuitest.Client{T: c.t, Base: c.base, HTTP: c.http}
}

// setup starts the admin page on a loopback test server, mounted as the
// daemon mounts it.
func setup(t *testing.T, fb admin.Backend, o admin.Options) *client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", admin.New(fb, o))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL)
}

func newClient(t *testing.T, base string) *client {
	return &client{t: t, base: base, http: webuitest.NewHTTPClient()}
}

// another is a second browser on the same server: no cookies yet.
func (c *client) another() *client { return newClient(c.t, c.base) }

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

func fromWeb(r webuitest.Response) response {
	return response{status: r.Status, header: r.Header, body: r.Body}
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	return fromWeb(c.web().Do(req))
}

func (c *client) get(path string) response {
	c.t.Helper()
	return fromWeb(c.web().Get(path))
}

// post sends a form from this origin; headers may override or remove
// (with "") what a browser sends.
func (c *client) post(path string, form url.Values, headers ...string) response {
	c.t.Helper()
	return fromWeb(c.web().Post(path, form, headers...))
}

// csrfRE finds a form's CSRF token.
var csrfRE = webuitest.CSRFField

// login posts the token and returns the CSRF token of the first page.
func (c *client) login(token string) string {
	c.t.Helper()
	return c.web().Login("/admin", token)
}

// csrf loads page and returns the CSRF token of its forms.
func (c *client) csrf(page string) string {
	c.t.Helper()
	return c.web().CSRF(page)
}

// follow loads the page a redirect points to.
func (c *client) follow(r response) response {
	c.t.Helper()
	return fromWeb(c.web().Follow(webuitest.Response{Status: r.status, Header: r.header, Body: r.body}))
}

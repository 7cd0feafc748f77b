package api_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/portal"
	"github.com/hookrt/hookd/internal/testsupport"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The runtime serves the domain owners' routes.
var _ api.DomainBackend = (*hookrt.Runtime)(nil)

// owned is what one domain has in the isolation test's runtime: the
// values its routes take in their path.
type owned struct {
	domain, target, session string
	token, tokenID          string // the token's text (its secret), and its id
	delivery                int64
	version                 int
	// secrets are strings of this domain that no answer to another
	// domain's token may contain: its event's id, its script's address,
	// its token's id.
	secrets []string
}

// isolationFixture is a real runtime on a SQLite file with two stored
// domains, A (7001) and B (8002), each with a dead delivery in a session
// of its own, a stored (inactive) plugin version and a token; and the API
// over it, as `hookd serve` mounts it (module routes, /metrics).
type isolationFixture struct {
	rt       *hookrt.Runtime
	handler  http.Handler
	srv      *httptest.Server
	opToken  string
	a, b     owned
	none     owned // ids nothing has
	module   []byte
	settings string
}

func newIsolationFixture(t *testing.T, st hookrt.StoreConfig) *isolationFixture {
	t.Helper()
	fx := &isolationFixture{opToken: "isolation-operator-token", settings: `{"config":{"limit":1000,"secret":"s3cret","message":"-"}}`}
	wasm, err := os.ReadFile(plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/rate-limit"))
	if err != nil {
		t.Fatal(err)
	}
	fx.module = wasm
	recvA := hooktest.NewReceiver(t, hooktest.Status(http.StatusInternalServerError, "down"))
	recvB := hooktest.NewReceiver(t, hooktest.Status(http.StatusInternalServerError, "down"))
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"result":{"code":"ok","description":"Done."},"data":{"id":7}}`)
	}))
	t.Cleanup(account.Close)
	// A failed delivery is dead at once.
	var obs *hooktest.Observations
	fx.rt, obs = testruntime.Open(t, fmt.Sprintf(`
[store]
path = "hookd.db"
%s%sallow_private = ["127.0.0.0/8"]
[webapi]
url = %q
signup = true
forgot_password = true
`, testruntime.DeadAtOnce, testruntime.PerDomainEvents, account.URL), testruntime.Options{Store: &st})
	ctx, op := t.Context(), hook.Operator()
	setup := func(o *owned, id string, recv *hooktest.Receiver) {
		o.domain, o.target, o.session = id, ops.DomainTarget(id), "s-"+id
		if _, err := fx.rt.PutDomain(ctx, op, id, fmt.Appendf(nil, `{"script":%q,"strict":true}`, recv.URL)); err != nil {
			t.Fatalf("storing domain %s: %v", id, err)
		}
		v, err := fx.rt.PushPlugin(ctx, op, id, fx.module, []byte(fx.settings), false)
		if err != nil {
			t.Fatalf("pushing domain %s's plugin: %v", id, err)
		}
		tok, err := fx.rt.CreateDomainToken(ctx, op, id, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		evID, err := fx.rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "DOMAIN_ID": id, "SESSIONID": o.session})
		if err != nil {
			t.Fatal(err)
		}
		o.version, o.token, o.tokenID = v.Version, tok.Secret, tok.ID
		o.secrets = []string{evID, strings.TrimPrefix(recv.URL, "http://"), tok.ID}
	}
	setup(&fx.a, "7001", recvA)
	setup(&fx.b, "8002", recvB)
	obs.Wait(t, "both domains' deliveries dead", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDead, fx.a.target) == 1 && hooktest.Count(o, hook.StateDead, fx.b.target) == 1
	})
	for _, o := range []*owned{&fx.a, &fx.b} {
		ds, err := fx.rt.ListDeliveries(ctx, hook.DeliveryFilter{Target: o.target})
		if err != nil || len(ds) != 1 {
			t.Fatalf("domain %s's deliveries: %+v, %v", o.domain, ds, err)
		}
		o.delivery = ds[0].ID
	}
	fx.none = owned{domain: "9999", target: ops.DomainTarget("9999"), session: "s-9999", tokenID: "dt_nothing", delivery: 999999, version: 99}
	// As cmd/hookd's serve mounts it: the module routes, the admin page,
	// the portal (whose own pages have their own isolation test), /metrics.
	routes := append(slices.Clip(fx.rt.Routes()),
		hook.Route{Pattern: "/admin/", Handler: admin.New(fx.rt, admin.Options{Token: fx.opToken})},
		hook.Route{Pattern: "/portal/", Handler: portal.New(fx.rt, portal.Options{})})
	fx.handler = api.New(fx.rt, api.Options{Token: fx.opToken, Routes: routes, Metrics: fx.rt.Metrics()})
	fx.srv = httptest.NewServer(fx.handler)
	t.Cleanup(fx.srv.Close)
	return fx
}

// probe is how the isolation test calls one route: the path with the
// resources of one domain put in, and the body.
type probe struct {
	method, path string // placeholders: {domain}, {target}, {session}, {delivery}, {version}, {token}
	body         func(fx *isolationFixture, o owned) (contentType string, body []byte)
	// own are the statuses a domain's token may get on its own resources;
	// none: the route is the operator's, and a domain token gets 404 on
	// anyone's.
	own []int
	// public routes answer anyone, with the same answer.
	public bool
}

func (p probe) fill(o owned) string {
	return strings.NewReplacer("{domain}", o.domain, "{target}", o.target, "{session}", o.session,
		"{delivery}", strconv.FormatInt(o.delivery, 10), "{version}", strconv.Itoa(o.version), "{token}", o.tokenID).Replace(p.path)
}

func jsonBody(s string) func(*isolationFixture, owned) (string, []byte) {
	return func(*isolationFixture, owned) (string, []byte) { return "application/json", []byte(s) }
}

// pluginUpload is a multipart upload of the fixture's module.
func pluginUpload(fx *isolationFixture, _ owned) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("module", "guard.wasm")
	_, _ = w.Write(fx.module)
	_ = mw.WriteField("settings", fx.settings)
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// isolationTable has an entry for every route the API registers (the
// test fails on a route without one): how to call it, and what a domain
// token may get on its own domain's resources.
var isolationTable = map[string]probe{
	"POST /v1/events": {method: "POST", path: "/v1/events", body: func(_ *isolationFixture, o owned) (string, []byte) {
		return "application/json", fmt.Appendf(nil, `{"MODULE":"ISL_LIGHT","EVENT":"CHAT","DOMAIN_ID":%q}`, o.domain)
	}},
	"GET /v1/deliveries":                                       {method: "GET", path: "/v1/deliveries?target={target}", own: []int{200}},
	"GET /v1/deliveries/{id}":                                  {method: "GET", path: "/v1/deliveries/{delivery}", own: []int{200}},
	"POST /v1/deliveries/{id}/retry":                           {method: "POST", path: "/v1/deliveries/{delivery}/retry", own: []int{202, 409}},
	"POST /v1/deliveries/{id}/discard":                         {method: "POST", path: "/v1/deliveries/{delivery}/discard", own: []int{200, 409}},
	"POST /v1/deliveries/retry":                                {method: "POST", path: "/v1/deliveries/retry?target={target}&state=discarded", own: []int{200}},
	"GET /v1/targets":                                          {method: "GET", path: "/v1/targets"},
	"POST /v1/targets/{name}/{action}":                         {method: "POST", path: "/v1/targets/{target}/pause"},
	"GET /v1/sessions/{id}/events":                             {method: "GET", path: "/v1/sessions/{session}/events", own: []int{200}},
	"GET /v1/domains":                                          {method: "GET", path: "/v1/domains", own: []int{200}},
	"GET /v1/domains/{id}":                                     {method: "GET", path: "/v1/domains/{domain}", own: []int{200}},
	"PUT /v1/domains/{id}":                                     {method: "PUT", path: "/v1/domains/{domain}", body: jsonBody(`{"script":"http://127.0.0.1:1/moved","strict":true}`), own: []int{200}},
	"DELETE /v1/domains/{id}":                                  {method: "DELETE", path: "/v1/domains/{domain}"},
	"POST /v1/domains/{id}/tokens":                             {method: "POST", path: "/v1/domains/{domain}/tokens", body: jsonBody(`{"name":"mine"}`)},
	"GET /v1/domains/{id}/tokens":                              {method: "GET", path: "/v1/domains/{domain}/tokens"},
	"DELETE /v1/domains/{id}/tokens/{token}":                   {method: "DELETE", path: "/v1/domains/{domain}/tokens/{token}"},
	"PUT /v1/domains/{id}/plugin":                              {method: "PUT", path: "/v1/domains/{domain}/plugin?activate=false", body: pluginUpload, own: []int{201}},
	"GET /v1/domains/{id}/plugin/versions":                     {method: "GET", path: "/v1/domains/{domain}/plugin/versions", own: []int{200}},
	"POST /v1/domains/{id}/plugin/versions/{version}/activate": {method: "POST", path: "/v1/domains/{domain}/plugin/versions/{version}/activate", own: []int{200}},
	"DELETE /v1/domains/{id}/plugin/versions/{version}":        {method: "DELETE", path: "/v1/domains/{domain}/plugin/versions/{version}", own: []int{200, 409}},
	"POST /v1/domains/{id}/plugin/test": {method: "POST", path: "/v1/domains/{domain}/plugin/test", body: func(_ *isolationFixture, o owned) (string, []byte) {
		return "application/json", fmt.Appendf(nil, `{"version":%d,"events":[{"MODULE":"ISL_LIGHT","EVENT":"START","DOMAIN_ID":%q,"SESSIONID":"x"}]}`, o.version, o.domain)
	}, own: []int{200}},
	"GET /v1/domains/{id}/logs":                 {method: "GET", path: "/v1/domains/{domain}/logs", own: []int{200}},
	"GET /v1/domains/{id}/audit":                {method: "GET", path: "/v1/domains/{domain}/audit", own: []int{200}},
	"GET /v1/domains/{id}/summary":              {method: "GET", path: "/v1/domains/{domain}/summary", own: []int{200}},
	"GET /v1/openapi.json":                      {method: "GET", path: "/v1/openapi.json"},
	"GET /.well-known/jwks.json":                {method: "GET", path: "/.well-known/jwks.json", public: true},
	"GET /healthz":                              {method: "GET", path: "/healthz", public: true},
	"GET /livez":                                {method: "GET", path: "/livez", public: true},
	"GET /readyz":                               {method: "GET", path: "/readyz", public: true},
	"/admin/":                                   {method: "GET", path: "/admin/", public: true},
	"/portal/":                                  {method: "GET", path: "/portal/", public: true},
	"GET /metrics":                              {method: "GET", path: "/metrics"},
	"POST /v1/webapi/account/signup/1":          {method: "POST", path: "/v1/webapi/account/signup/1", body: jsonBody(`{"username":"ann","domain":"8002","email":"ann@example.com"}`)},
	"POST /v1/webapi/account/password/forgot/1": {method: "POST", path: "/v1/webapi/account/password/forgot/1", body: jsonBody(`{"username":"ann","domain":"8002"}`)},
}

// send calls p's route with o's resources, as token.
func (fx *isolationFixture) send(t *testing.T, p probe, o owned, token string) (int, string) {
	t.Helper()
	var body io.Reader
	ct := ""
	if p.body != nil {
		var b []byte
		ct, b = p.body(fx, o)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), p.method, fx.srv.URL+p.fill(o), body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, raw := testsupport.Send(t, fx.srv.Client(), req)
	return resp.StatusCode, string(raw)
}

// TestIsolation walks every route the API registers with domain A's
// token, on SQLite and PostgreSQL: against domain B's resources and against resources that do not
// exist, the answers are 404 and the same (but for the id asked about),
// so that B's existence is not even hinted at; no answer to A's token
// holds anything of B's; the operator's routes are 404 to A even on its
// own resources; and A reaches its own resources (so the 404s are not a
// broken token). At the end B is as it was.
func TestIsolation(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, testIsolation)
}

func testIsolation(t *testing.T, st hookrt.StoreConfig) {
	fx := newIsolationFixture(t, st)
	ctx, op := t.Context(), hook.Operator()
	beforeB, err := fx.rt.Domain(ctx, op, fx.b.domain)
	if err != nil {
		t.Fatal(err)
	}

	routes := api.RoutesOf(fx.handler)
	if len(routes) < 30 {
		t.Fatalf("only %d routes: %+v", len(routes), routes)
	}
	for _, r := range routes {
		p, ok := isolationTable[r.Pattern]
		if !ok {
			t.Errorf("route %q (%s) has no entry in isolationTable: add one saying what a domain token gets on it", r.Pattern, r.Access)
			continue
		}
		if p.public != (r.Access == "public") || (len(p.own) > 0) != (r.Access == "scoped") {
			t.Errorf("route %q is %s, but its entry says public=%v own=%v", r.Pattern, r.Access, p.public, p.own)
		}
	}
	for pattern := range isolationTable {
		if !slices.ContainsFunc(routes, func(r api.RouteInfo) bool { return r.Pattern == pattern }) {
			t.Errorf("isolationTable has %q, which the API does not serve", pattern)
		}
	}

	// Mutating calls on A's own resources go last: B's and nobody's first.
	patterns := make([]string, 0, len(routes))
	for _, r := range routes {
		patterns = append(patterns, r.Pattern)
	}
	for _, pattern := range patterns {
		p, ok := isolationTable[pattern]
		if !ok {
			continue
		}
		t.Run(strings.ReplaceAll(pattern, "/", "_"), func(t *testing.T) {
			stB, bodyB := fx.send(t, p, fx.b, fx.a.token)
			stNone, bodyNone := fx.send(t, p, fx.none, fx.a.token)
			// Nothing of B's is in an answer to A's token, but for what A
			// sent (a path may be echoed in a 404).
			leaks := func(body string) {
				t.Helper()
				for _, s := range fx.b.secrets {
					if strings.Contains(body, s) && !strings.Contains(p.fill(fx.b), s) {
						t.Errorf("an answer to domain A's token holds %q, domain B's: %s", s, body)
					}
				}
			}
			leaks(bodyB)
			leaks(bodyNone)
			if p.public || !strings.Contains(p.path, "{") && len(p.own) > 0 {
				// Anyone's route (the pages with a login of their own
				// send a bearer token's request to it), or a list of what
				// the token sees (no resource in its path): the leak
				// check is the test.
				if stB != stNone || stB >= 400 {
					t.Errorf("%d %s", stB, bodyB)
				}
				return
			}
			if stB != http.StatusNotFound {
				t.Errorf("with domain B's resources: %d, want 404: %s", stB, bodyB)
			}
			// The same answer as for what does not exist, but for the
			// ids asked about.
			if want := asked(bodyNone, fx.none, fx.b); bodyB != want || stB != stNone {
				t.Errorf("B's resources and missing ones are answered differently:\n%d %s\n%d %s", stB, bodyB, stNone, want)
			}
			stA, bodyA := fx.send(t, p, fx.a, fx.a.token)
			leaks(bodyA)
			if len(p.own) == 0 {
				if stA != http.StatusNotFound {
					t.Errorf("an operator's route, with domain A's own resources: %d, want 404: %s", stA, bodyA)
				}
				return
			}
			if !slices.Contains(p.own, stA) {
				t.Errorf("with its own resources: %d, want one of %v: %s", stA, p.own, bodyA)
			}
			if p.method != "GET" {
				return // the operator must not change B: the test checks B is as it was
			}
			if stOp, bodyOp := fx.send(t, p, fx.b, fx.opToken); stOp != http.StatusOK {
				t.Errorf("the operator does not get domain B's resources either (the probe is broken): %d: %s", stOp, bodyOp)
			}
		})
	}

	// The lists show only A's own.
	p := probe{method: "GET", path: "/v1/deliveries"}
	if st, body := fx.send(t, p, fx.a, fx.a.token); st != 200 || strings.Contains(body, fx.b.target) || !strings.Contains(body, fx.a.target) {
		t.Errorf("the unfiltered list for A: %d %s", st, body)
	}
	p = probe{method: "GET", path: "/v1/domains"}
	if st, body := fx.send(t, p, fx.a, fx.a.token); st != 200 || strings.Contains(body, fx.b.domain) || !strings.Contains(body, fx.a.domain) {
		t.Errorf("the domains for A: %d %s", st, body)
	}

	// A revoked token is no one's: 401, like a wrong one.
	p = probe{method: "DELETE", path: "/v1/domains/{domain}/tokens/{token}"}
	if st, body := fx.send(t, p, fx.a, fx.opToken); st != http.StatusOK {
		t.Fatalf("revoking A's token: %d %s", st, body)
	}
	p = probe{method: "GET", path: "/v1/domains/{domain}"}
	if st, body := fx.send(t, p, fx.a, fx.a.token); st != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d %s", st, body)
	}

	// B is as it was.
	afterB, err := fx.rt.Domain(ctx, op, fx.b.domain)
	if err != nil || afterB.Revision != beforeB.Revision || !bytes.Equal(afterB.Spec, beforeB.Spec) {
		t.Errorf("domain B changed: %+v → %+v, %v", beforeB, afterB, err)
	}
	if d, err := fx.rt.Delivery(ctx, fx.b.delivery); err != nil || d.State != hook.StateDead {
		t.Errorf("B's delivery: %+v, %v", d, err)
	}
	if vs, err := fx.rt.PluginVersions(ctx, op, fx.b.domain); err != nil || len(vs) != 1 || vs[0].Active {
		t.Errorf("B's plugin versions: %+v, %v", vs, err)
	}
	if who, err := fx.rt.AuthenticateDomainToken(ctx, fx.b.token); err != nil || who.Domain != fx.b.domain {
		t.Errorf("B's token: %+v, %v", who, err)
	}
	if ts, err := fx.rt.TargetStatuses(ctx); err != nil || slices.ContainsFunc(ts, func(s hook.TargetStatus) bool { return s.State != hook.TargetEnabled }) {
		t.Errorf("a target changed state: %+v, %v", ts, err)
	}
}

// asked turns an answer about the ids of none (which nothing has) into
// the answer expected about the ids of o: the same words, o's ids.
func asked(body string, none, o owned) string {
	return strings.NewReplacer(none.target, o.target, none.session, o.session,
		strconv.FormatInt(none.delivery, 10), strconv.FormatInt(o.delivery, 10), none.domain, o.domain,
		"version "+strconv.Itoa(none.version), "version "+strconv.Itoa(o.version), "versions/"+strconv.Itoa(none.version), "versions/"+strconv.Itoa(o.version),
		none.tokenID, o.tokenID).Replace(body)
}

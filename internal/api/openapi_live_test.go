package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/portal"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	hookrt "github.com/hookrt/hookd/runtime"
)

// NDJSON has no body decoder of its own in kin-openapi; the document
// describes such a body as text, one event object per line.
func init() {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/jsonl", openapi3filter.PlainBodyDecoder)
}

// loadOpenAPI loads and validates the embedded document, as a client
// generator would read it.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Fatalf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	return doc
}

// liveAPI is hookd's API as `hookd serve` mounts it (module routes, the
// admin page, /metrics), over a real runtime on a SQLite file, on a
// loopback listener; check validates what is sent to it and what it
// answers against the document.
type liveAPI struct {
	srv        *httptest.Server
	public     *httptest.Server // api.NewPublic over the same runtime
	token      string
	rt         *hookrt.Runtime
	router     routers.Router
	errSchema  *openapi3.Schema
	hookRecv   *hooktest.Receiver // the JWT webhook's receiver: 200
	eventsRecv *hooktest.Receiver // the HTTP events script: 500, so its deliveries go dead at once
	obs        *hooktest.Observations
	// covered holds the operations ("POST /v1/events") an answer was
	// validated for.
	covered map[string]bool
	last    int // the status of the last answer check validated
	// domainTokens are the domain tokens the test made: the document's
	// bearer scheme takes them too.
	domainTokens map[string]bool
}

func startLiveAPI(t *testing.T) *liveAPI {
	t.Helper()
	l := &liveAPI{token: "openapi-test-token", covered: map[string]bool{}, domainTokens: map[string]bool{}}
	l.hookRecv = hooktest.NewReceiver(t, hooktest.Status(http.StatusOK, "ok"))
	l.eventsRecv = hooktest.NewReceiver(t, hooktest.Status(http.StatusInternalServerError, "database is down"))
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"result":{"code":"ok","description":"Done."},"data":{"id":7}}`)
	}))
	t.Cleanup(account.Close)

	dir := t.TempDir()
	daemontest.WriteKey(t, filepath.Join(dir, "private"), "webhook.pem")
	// A failed delivery is dead at once.
	logger := testruntime.Logger()
	l.rt, l.obs = testruntime.Open(t, fmt.Sprintf(`
[store]
path = "hookd.db"
%s[jwt_webhook]
url = %q
private_key = "webhook.pem"
[jwt_webhook.events]
user_create = true
[jwt_webhook.delivery]
headers = { "X-Tenant" = "acme" }
filter = { events = ["USER_CREATE"] }
[http_events]
global = true
global_server = %q
global_path = "/events"
global_strict = true
save_to_session = true
per_domain = true
allow_private = ["127.0.0.0/8"]
[webapi]
url = %q
signup = true
forgot_password = true
`, testruntime.DeadAtOnce, l.hookRecv.URL+"/hook", strings.TrimPrefix(l.eventsRecv.URL, "http://"), account.URL),
		testruntime.Options{Dir: dir}, hookrt.WithLogger(logger))
	// As cmd/hookd's serve mounts it.
	adminPage := hook.Route{Pattern: "/admin/", Handler: admin.New(l.rt, admin.Options{Token: l.token, Logger: logger})}
	portalPage := hook.Route{Pattern: "/portal/", Handler: portal.New(l.rt, portal.Options{Logger: logger})}
	l.srv = httptest.NewServer(api.New(l.rt, api.Options{Token: l.token, Logger: logger,
		Routes: append(slices.Clip(l.rt.Routes()), adminPage, portalPage), Metrics: l.rt.Metrics()}))
	t.Cleanup(l.srv.Close)

	l.router = routerFor(t, l.srv.URL)
	l.errSchema = loadOpenAPI(t).Components.Schemas["Error"].Value
	l.public = httptest.NewServer(api.NewPublic(l.rt, logger))
	t.Cleanup(l.public.Close)
	return l
}

// routerFor finds the document's operations for requests to base.
func routerFor(t *testing.T, base string) routers.Router {
	t.Helper()
	doc := loadOpenAPI(t)
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// publicAPI is the same API as l's server.public_listen serves it
// (api.NewPublic): the keys and the probes, without a token.
func (l *liveAPI) publicAPI(t *testing.T) *liveAPI {
	p := *l
	p.srv, p.router = l.public, routerFor(t, l.public.URL)
	return &p
}

// call is one request of the test and the status it must be answered with.
type call struct {
	method, path, body string
	header             []string // alternating names and values
	noToken            bool
	token              string // sent instead of the right token when set
	status             int
	orStatus           int // another status that is right too (0: none)
	// docRefuses: the document describes the request as invalid too (the
	// server refuses it for a reason the document states).
	docRefuses bool
}

// auth is the document's bearer scheme, checked as the server checks it.
func (l *liveAPI) auth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	got := in.RequestValidationInput.Request.Header.Get("Authorization")
	if got == "Bearer "+l.token || l.domainTokens[strings.TrimPrefix(got, "Bearer ")] {
		return nil
	}
	return errors.New("no valid bearer token")
}

func (l *liveAPI) request(t *testing.T, c call) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), c.method, l.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(c.header); i += 2 {
		req.Header.Set(c.header[i], c.header[i+1])
	}
	if !c.noToken {
		req.Header.Set("Authorization", "Bearer "+cmpOr(c.token, l.token))
	}
	return req
}

// client does not follow redirects: the answer validated is the server's.
func (l *liveAPI) client() *http.Client {
	c := *l.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// check validates c's request against the document, sends it, and
// validates the answer, which must have c's status; it returns the body.
func (l *liveAPI) check(t *testing.T, c call) []byte {
	t.Helper()
	what := c.method + " " + c.path
	req := l.request(t, c)
	route, params, err := l.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: not in the document: %v", what, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: l.auth}}
	err = openapi3filter.ValidateRequest(t.Context(), in)
	switch {
	case c.docRefuses && err == nil:
		t.Errorf("%s: the server refuses it (%d), but the document allows it", what, c.status)
	case !c.docRefuses && err != nil:
		t.Errorf("%s: request does not validate against the document: %v", what, err)
	}

	resp, err := l.client().Do(l.request(t, c))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != c.status && (c.orStatus == 0 || resp.StatusCode != c.orStatus) {
		t.Fatalf("%s: status %d, want %d; body %s", what, resp.StatusCode, c.status, body)
	}
	l.last = resp.StatusCode
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Errorf("%s: answer %d does not validate against the document: %v\nbody: %.600s", what, resp.StatusCode, err, body)
	}
	l.covered[route.Method+" "+route.Path] = true
	return body
}

// checkUnrouted sends a request that no operation describes (a wrong
// method, an unknown path) and checks that the answer is the document's
// Error, with the status the document's description promises.
func (l *liveAPI) checkUnrouted(t *testing.T, c call) {
	t.Helper()
	resp, err := l.client().Do(l.request(t, c))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", c.method, c.path, err)
	}
	if resp.StatusCode != c.status {
		t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
	}
	if err := l.errSchema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s %s: answer is not the document's Error: %v", c.method, c.path, err)
	}
}

// field decodes body and returns the JSON value at the dotted path.
func field(t *testing.T, body []byte, path ...any) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				t.Fatalf("no element %d in %s", k, body)
			}
			v = a[k]
		}
	}
	return v
}

// idOf returns the id of the first delivery of a list answer.
func idOf(t *testing.T, list []byte) string {
	t.Helper()
	id, ok := field(t, list, "deliveries", 0, "id").(float64)
	if !ok {
		t.Fatalf("no delivery in %s", list)
	}
	return fmt.Sprint(int64(id))
}

var bytesJSONAsForm = []byte(`{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`)

// bigEvent is one event over the 64 KiB limit of one event.
func bigEvent() string {
	return `{"MODULE":"M","EVENT":"E","PAD":"` + string(bytes.Repeat([]byte("x"), 64<<10)) + `"}`
}

package portal

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// isoCase is how the isolation test walks one portal route: the request
// alpha's owner makes with beta's identifiers, and the status it must
// get. Every other check is the same for all: nothing of beta's on the
// page, nothing of beta's changed.
type isoCase struct {
	method, path string
	form         url.Values
	upload       bool   // a multipart form
	fresh        bool   // on a client of its own (the route changes the session)
	status       int    // the answer expected
	why          string // what the case shows
}

// isolationCases has an entry for every route of the portal; a route
// without one fails TestIsolation. Beta's ids are filled in by the test
// ({dead}, {delivered}, {event}, {session}).
var isolationCases = map[string]isoCase{
	"GET /portal/login":                               {method: "GET", path: "/portal/login", status: http.StatusSeeOther, why: "a session goes home"},
	"POST /portal/login":                              {method: "POST", path: "/portal/login", form: url.Values{"token": {"{tokA}"}}, fresh: true, status: http.StatusSeeOther, why: "alpha's token logs in alpha"},
	"POST /portal/logout":                             {method: "POST", path: "/portal/logout", fresh: true, status: http.StatusSeeOther, why: "logs out"},
	"GET /portal/static/{file}":                       {method: "GET", path: "/portal/static/hookd.css", status: http.StatusOK, why: "no data"},
	"GET /portal/{$}":                                 {method: "GET", path: "/portal/?event_id={event}&target=http_events.domain.beta&state=dead", status: http.StatusOK, why: "beta's target and event filter to nothing"},
	"GET /portal/dead":                                {method: "GET", path: "/portal/dead?target=http_events.domain.beta", status: http.StatusOK, why: "only alpha's dead letters"},
	"GET /portal/deliveries/{id}":                     {method: "GET", path: "/portal/deliveries/{dead}", status: http.StatusNotFound, why: "beta's delivery is unknown"},
	"POST /portal/deliveries/{id}/retry":              {method: "POST", path: "/portal/deliveries/{dead}/retry", status: http.StatusNotFound, why: "beta's dead letter cannot be replayed"},
	"POST /portal/deliveries/{id}/discard":            {method: "POST", path: "/portal/deliveries/{delivered}/discard", status: http.StatusNotFound, why: "beta's delivery cannot be discarded"},
	"POST /portal/deliveries/replay":                  {method: "POST", path: "/portal/deliveries/replay", form: url.Values{"state": {"dead"}}, status: http.StatusSeeOther, why: "a bulk replay takes alpha's only"},
	"GET /portal/sessions":                            {method: "GET", path: "/portal/sessions?id={session}", status: http.StatusNotFound, why: "beta's session is unknown"},
	"GET /portal/plugin":                              {method: "GET", path: "/portal/plugin?domain=beta", status: http.StatusOK, why: "alpha's plugin only"},
	"POST /portal/plugin/upload":                      {method: "POST", path: "/portal/plugin/upload", upload: true, form: url.Values{"domain": {"beta"}, "activate": {"1"}}, status: http.StatusSeeOther, why: "an upload goes to alpha (and this one is refused)"},
	"POST /portal/plugin/test":                        {method: "POST", path: "/portal/plugin/test", upload: true, form: url.Values{"version": {"2"}}, status: http.StatusNotFound, why: "beta's version 2 is not alpha's"},
	"POST /portal/plugin/versions/{version}/activate": {method: "POST", path: "/portal/plugin/versions/2/activate", status: http.StatusNotFound, why: "beta's version 2 is not alpha's"},
	"POST /portal/plugin/versions/{version}/delete":   {method: "POST", path: "/portal/plugin/versions/3/delete", status: http.StatusNotFound, why: "beta's version 3 is not alpha's"},
	"GET /portal/logs":                                {method: "GET", path: "/portal/logs?domain=beta", status: http.StatusOK, why: "alpha's plugin log only"},
	"GET /portal/settings":                            {method: "GET", path: "/portal/settings?domain=beta", status: http.StatusOK, why: "alpha's settings only"},
	"POST /portal/settings":                           {method: "POST", path: "/portal/settings", form: url.Values{"spec": {`{"id":"beta","strict":false}`}}, status: http.StatusSeeOther, why: "settings are alpha's; naming beta is refused"},
	"/portal/":                                        {method: "GET", path: "/portal/domains/beta", status: http.StatusNotFound, why: "no such page"},
}

// TestIsolation walks every route of the portal with alpha's token
// against beta's resources: each answers as if beta's did not exist (404,
// or alpha's own empty data), no page shows anything of beta's, and
// nothing of beta's changes. A route added to the portal without an entry
// in isolationCases fails the test. Real runtime, real SQLite, real
// plugin.
func TestIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs a runtime; -short skips it")
	}
	t.Parallel()
	e := newEnv(t)
	s := New(e.rt, Options{}).(*server)
	for _, r := range s.routes {
		if _, ok := isolationCases[r.pattern]; !ok {
			t.Errorf("route %q has no entry in isolationCases: say how a token of another domain is kept out of it", r.pattern)
		}
	}
	for p := range isolationCases {
		if !slices.ContainsFunc(s.routes, func(r route) bool { return r.pattern == p }) {
			t.Errorf("isolationCases has %q, which is no route of the portal", p)
		}
	}

	fill := strings.NewReplacer("{dead}", fmt.Sprint(e.betaDead[0]), "{delivered}", fmt.Sprint(e.betaDelivered[0]),
		"{event}", e.betaEv[0], "{session}", betaSession, "{tokA}", e.tokA)
	// Everything of beta's a page could show: its plugin's secret (in
	// its settings and event fields), its plugin's digest, its token's
	// name, its events' and deliveries' ids and its session.
	marks := []string{betaMark, e.betaSHA, betaTokName, betaSession, "http_events.domain.beta"}
	marks = append(marks, e.betaEv...)
	for _, id := range append(append([]int64(nil), e.betaDead...), e.betaDelivered...) {
		marks = append(marks, fmt.Sprintf(`data-id="%d"`, id), fmt.Sprintf("/portal/deliveries/%d", id))
	}
	before := e.betaState()

	alpha := e.client()
	alpha.Login("/portal", e.tokA)
	for _, pattern := range slices.Sorted(maps.Keys(isolationCases)) {
		tc := isolationCases[pattern]
		t.Run(pattern, func(t *testing.T) {
			c := alpha
			if tc.fresh {
				c = e.client()
				if tc.path != "/portal/login" {
					c.Login("/portal", e.tokA)
				}
			}
			c.T = t
			path := fill.Replace(tc.path)
			form := url.Values{}
			for k, vs := range tc.form {
				for _, v := range vs {
					form.Add(k, fill.Replace(v))
				}
			}
			var r webuitest.Response
			switch {
			case tc.method == "GET":
				r = c.Get(path)
			default:
				if tc.path != "/portal/login" {
					form.Set("csrf", c.CSRF("/portal/"))
				}
				if tc.upload {
					var module []byte
					if tc.path == "/portal/plugin/upload" {
						module = []byte("not a WebAssembly module")
					}
					r = c.Upload(path, form, module)
				} else {
					r = c.Post(path, form)
				}
			}
			if r.Status != tc.status {
				t.Errorf("%s %s (%s): %d; want %d\n%s", tc.method, path, tc.why, r.Status, tc.status, r.Body)
			}
			page := r.Body
			if r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/portal/") {
				page += c.Get(r.Header.Get("Location")).Body // the page it leads to, with its flash
			}
			typed := path + form.Encode()
			for _, m := range marks {
				if strings.Contains(page, m) && !strings.Contains(typed, m) && !strings.Contains(typed, url.QueryEscape(m)) {
					t.Errorf("%s %s: the answer shows beta's %q:\n%s", tc.method, path, m, page)
				}
			}
			if r.Status == http.StatusForbidden || strings.Contains(page, "forbidden") {
				t.Errorf("%s %s: answered as forbidden, which says it exists:\n%s", tc.method, path, page)
			}
		})
	}
	if after := e.betaState(); after != before {
		t.Errorf("alpha's requests changed beta:\nbefore %s\nafter  %s", before, after)
	}
}

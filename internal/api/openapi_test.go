package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/authguard"
	"github.com/hookrt/hookd/internal/hooktest"
)

const (
	ctJSONHeader = "application/json"
	ctFormHeader = "application/x-www-form-urlencoded"
)

// TestOpenAPIMatchesServer sends real requests to every operation of
// openapi.json, on hookd's API over a real runtime on loopback, and
// validates each request and each answer (successes and errors) against
// the document with kin-openapi's openapi3filter: the document says what
// the server does, so clients generated from it work.
func TestOpenAPIMatchesServer(t *testing.T) {
	// Not skipped under -short: it takes about a second, and it is what
	// keeps the document true.
	l := startLiveAPI(t)
	J := []string{"Content-Type", ctJSONHeader}
	F := []string{"Content-Type", ctFormHeader}

	// Events: one, a batch, a repeat, and every kind of refusal.
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 202,
		body: `{"MODULE":"ISL_CP","EVENT":"USER_CREATE","USERNAME":"ann","TIMESTAMP":1700000000}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: F, status: 202,
		body: `MODULE=ISL_LIGHT&EVENT=NEW+SESSION&SESSIONID=s-42&TIMESTAMP=1700000001`})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 202,
		body: `[{"MODULE":"ISL_LIGHT","EVENT":"START","SESSIONID":"s-42"},{"MODULE":"ISL_LIGHT","EVENT":"STOP","SESSIONID":"s-42"}]`})
	l.check(t, call{method: "POST", path: "/v1/events", header: []string{"Content-Type", "application/x-ndjson"}, status: 202,
		body: "{\"MODULE\":\"ISL_LIGHT\",\"EVENT\":\"CHAT\"}\n{\"MODULE\":\"ISL_LIGHT\",\"EVENT\":\"CHAT\"}\n"})
	key := []string{"Content-Type", ctJSONHeader, "Idempotency-Key", "k-1"}
	l.check(t, call{method: "POST", path: "/v1/events", header: key, status: 202, body: `{"MODULE":"ISL_LIGHT","EVENT":"KEYED"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: key, status: 200, body: `{"MODULE":"ISL_LIGHT","EVENT":"KEYED"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: key, status: 409, body: `{"MODULE":"ISL_LIGHT","EVENT":"OTHER"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 400, docRefuses: true, body: `{"MODULE":"M"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 400, docRefuses: true,
		body: `{"MODULE":"M","EVENT":"E","TIMESTAMP":"yesterday"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 400, docRefuses: true,
		body: `{"MODULE":"M","EVENT":"E","EVENT_ID":"x"}`})
	l.check(t, call{method: "POST", path: "/v1/events", header: F, status: 415, docRefuses: true, body: string(bytesJSONAsForm)})
	l.check(t, call{method: "POST", path: "/v1/events", header: []string{"Content-Type", "text/plain"}, status: 415, docRefuses: true,
		body: `MODULE=M&EVENT=E`})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 413, body: bigEvent()})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 401, docRefuses: true, noToken: true,
		body: `{"MODULE":"M","EVENT":"E"}`})

	// One delivery delivered (the webhook answers 200) and one dead (the
	// events script answers 500, and the next try would pass max_age).
	l.obs.Wait(t, "a delivered and a dead delivery", func(obs []hook.Observation) bool {
		return hooktest.Count(obs, hook.StateDelivered, "jwt_webhook") > 0 && hooktest.Count(obs, hook.StateDead, "") > 0
	})

	// Deliveries.
	l.check(t, call{method: "GET", path: "/v1/deliveries", status: 200})
	delivered := idOf(t, l.check(t, call{method: "GET", path: "/v1/deliveries?state=delivered&limit=1", status: 200}))
	dead := idOf(t, l.check(t, call{method: "GET", path: "/v1/deliveries?state=dead&limit=5", status: 200}))
	l.check(t, call{method: "GET", path: "/v1/deliveries?state=lost", status: 400, docRefuses: true})
	l.check(t, call{method: "GET", path: "/v1/deliveries?limit=0", status: 400, docRefuses: true})
	l.check(t, call{method: "GET", path: "/v1/deliveries?before=x", status: 400, docRefuses: true})
	l.check(t, call{method: "GET", path: "/v1/deliveries?lmit=5", status: 400}) // unknown parameters: said in words
	l.check(t, call{method: "GET", path: "/v1/deliveries", status: 401, noToken: true, docRefuses: true})
	one := l.check(t, call{method: "GET", path: "/v1/deliveries/" + delivered, status: 200})
	if field(t, one, "event", "MODULE") == nil || field(t, one, "attempts_log", 0, "n") == nil {
		t.Errorf("one delivery lacks its event or attempts: %s", one)
	}
	l.check(t, call{method: "GET", path: "/v1/deliveries/" + dead, status: 200})
	l.check(t, call{method: "GET", path: "/v1/deliveries/999999", status: 404})
	l.check(t, call{method: "GET", path: "/v1/deliveries/abc", status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/deliveries/" + delivered + "/discard", status: 409})
	l.check(t, call{method: "POST", path: "/v1/deliveries/" + delivered + "/retry", status: 409})
	l.check(t, call{method: "POST", path: "/v1/deliveries/" + dead + "/discard", status: 200})
	l.check(t, call{method: "POST", path: "/v1/deliveries/" + dead + "/retry", status: 202})
	l.check(t, call{method: "POST", path: "/v1/deliveries/999999/retry", status: 404})
	l.check(t, call{method: "POST", path: "/v1/deliveries/999999/discard", status: 404})
	l.check(t, call{method: "POST", path: "/v1/deliveries/0/discard", status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/deliveries/retry?state=dead&since=24h", status: 200})
	l.check(t, call{method: "POST", path: "/v1/deliveries/retry?state=discarded&limit=10", status: 200})
	l.check(t, call{method: "POST", path: "/v1/deliveries/retry?state=delivered", status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/deliveries/retry?limit=10001", status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/deliveries/retry?since=yesterday", status: 400})

	// Targets.
	targets := l.check(t, call{method: "GET", path: "/v1/targets", status: 200})
	if !strings.Contains(string(targets), `"jwt_webhook"`) {
		t.Errorf("targets: %s", targets)
	}
	// The JWT webhook's delivery settings, as the document's DeliveryView.
	if !strings.Contains(string(targets), `"delivery":{"headers":["X-Tenant"],"filter":"events USER_CREATE"}`) {
		t.Errorf("targets: no delivery view of jwt_webhook's settings: %s", targets)
	}
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/pause", header: J, body: `{"reason":"maintenance"}`, status: 200})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/resume", status: 200})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/disable", header: J, body: `{"reason":"gone"}`, status: 200})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/enable", status: 200})
	l.check(t, call{method: "POST", path: "/v1/targets/nosuch/pause", status: 404})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/explode", status: 404, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/pause", header: J, body: `{"why":"x"}`, status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/targets/jwt_webhook/pause", header: J, body: `{"reason":"` + strings.Repeat("x", 5000) + `"}`, status: 413})

	// A session's record.
	rec := l.check(t, call{method: "GET", path: "/v1/sessions/s-42/events", status: 200})
	if ev, _ := field(t, rec, "events").([]any); len(ev) == 0 {
		t.Errorf("the session's record is empty: %s", rec)
	}
	l.check(t, call{method: "GET", path: "/v1/sessions/none/events", status: 200})
	l.check(t, call{method: "GET", path: "/v1/sessions/" + strings.Repeat("s", 257) + "/events", status: 400, docRefuses: true})

	// The External WebAPI's routes, mounted from the [webapi] module.
	l.check(t, call{method: "POST", path: "/v1/webapi/account/signup/1", header: J, status: 200,
		body: `{"username":"ann","domain":"acme","email":"ann@example.com"}`})
	l.check(t, call{method: "POST", path: "/v1/webapi/account/signup/1", header: J, status: 400, docRefuses: true, body: `{"nick":"ann"}`})
	l.check(t, call{method: "POST", path: "/v1/webapi/account/signup/1", header: F, status: 415, docRefuses: true, body: `username=ann`})
	l.check(t, call{method: "POST", path: "/v1/webapi/account/password/forgot/1", header: J, status: 200, body: `{"username":"ann","domain":"acme"}`})
	l.check(t, call{method: "POST", path: "/v1/webapi/account/password/forgot/1", header: J, status: 401, noToken: true, docRefuses: true, body: `{}`})

	// Domains as data, their tokens and plugins.
	l.checkDomains(t)

	// The rest: the document itself, keys, probes, metrics, the admin page.
	l.check(t, call{method: "GET", path: "/v1/openapi.json", status: 200})
	keys := l.check(t, call{method: "GET", path: "/.well-known/jwks.json", noToken: true, status: 200})
	if k, _ := field(t, keys, "keys").([]any); len(k) == 0 {
		t.Errorf("no key in the JWK set: %s", keys)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		l.check(t, call{method: "GET", path: p, noToken: true, status: 200})
	}
	l.check(t, call{method: "GET", path: "/metrics", status: 200})
	l.check(t, call{method: "GET", path: "/metrics", status: 401, noToken: true, docRefuses: true})
	l.check(t, call{method: "GET", path: "/admin/", noToken: true, status: http.StatusSeeOther})
	l.check(t, call{method: "GET", path: "/portal/", noToken: true, status: http.StatusSeeOther})

	// The public listener serves the same answers for its four routes,
	// and nothing else.
	pub := l.publicAPI(t)
	for _, p := range []string{"/.well-known/jwks.json", "/healthz", "/livez", "/readyz"} {
		pub.check(t, call{method: "GET", path: p, noToken: true, status: 200})
	}
	pub.checkUnrouted(t, call{method: "GET", path: "/v1/deliveries", status: 404})
	pub.checkUnrouted(t, call{method: "GET", path: "/v1/openapi.json", status: 404})

	// What no operation describes: a wrong method, an unknown path.
	l.checkUnrouted(t, call{method: "GET", path: "/v1/events", status: 405})
	l.checkUnrouted(t, call{method: "DELETE", path: "/v1/deliveries/1", status: 405})
	l.checkUnrouted(t, call{method: "GET", path: "/v1/nothing", status: 404})

	// A closed runtime: readiness and the API say so; liveness does not.
	if err := l.rt.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	l.check(t, call{method: "GET", path: "/readyz", noToken: true, status: 503})
	pub.check(t, call{method: "GET", path: "/readyz", noToken: true, status: 503})
	l.check(t, call{method: "POST", path: "/v1/events", header: J, status: 503, body: `{"MODULE":"M","EVENT":"E"}`})
	l.check(t, call{method: "GET", path: "/livez", noToken: true, status: 200})

	// Wrong tokens: 401 while they are free and for the one that starts
	// the wait, then 429 while the wait lasts (a slow machine may let a
	// wait end between two requests: that token is checked, 401, and the
	// next wait is twice as long). Last, because the address must then
	// wait for its right token too.
	for i := 0; l.last != http.StatusTooManyRequests; i++ {
		if i == authguard.DefaultFree+20 {
			t.Fatal("wrong tokens were never answered 429")
		}
		c := call{method: "GET", path: "/v1/targets", token: "wrong", status: http.StatusUnauthorized, docRefuses: true}
		if i > authguard.DefaultFree {
			c.status, c.orStatus = http.StatusTooManyRequests, http.StatusUnauthorized
		}
		l.check(t, c)
	}
	l.check(t, call{method: "GET", path: "/metrics", token: "wrong", status: http.StatusTooManyRequests,
		orStatus: http.StatusUnauthorized, docRefuses: true})

	// Every operation of the document was answered and validated.
	var missed []string
	for _, op := range documentOperations(t) {
		if !l.covered[op] {
			missed = append(missed, op)
		}
	}
	if len(missed) > 0 {
		t.Errorf("no request validated for %d operations of the document:\n%s", len(missed), strings.Join(missed, "\n"))
	}
	if testing.Verbose() {
		t.Logf("validated %d operations", len(l.covered))
	}
}

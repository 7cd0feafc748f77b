package api_test

import (
	"net/http"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

func TestListDeliveries(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "GET", "/v1/deliveries", "").want(t, http.StatusOK)
	if ds, _ := a.json["deliveries"].([]any); len(ds) != 2 {
		t.Errorf("deliveries = %s", a.raw)
	}

	tb.do(t, "GET", "/v1/deliveries?state=dead&target=http_events.global&event_id=e-1&before=50&limit=10", "").want(t, http.StatusOK)
	want := hook.DeliveryFilter{State: hook.StateDead, Target: "http_events.global", EventID: "e-1", BeforeID: 50, Limit: 10}
	tb.b.set(func(b *fakeBackend) {
		if b.lastFilter != want {
			t.Errorf("filter = %+v, want %+v", b.lastFilter, want)
		}
	})

	a = tb.do(t, "GET", "/v1/deliveries?state=pending", "").want(t, http.StatusOK)
	if a.raw != `{"deliveries":[]}`+"\n" {
		t.Errorf("empty list = %q", a.raw)
	}
}

func TestListDeliveriesRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	for query, msg := range map[string]string{
		"state=bogus":              `state "bogus" is not one of pending, retrying, delivered, dead, discarded`,
		"limit=abc":                `limit "abc": must be a number from 1 to 1000`,
		"limit=0":                  `limit "0": must be a number from 1 to 1000`,
		"limit=1001":               `limit "1001": must be a number from 1 to 1000`,
		"before=x":                 `before "x": must be a delivery id (a positive integer)`,
		"before=-5":                `before "-5": must be a delivery id (a positive integer)`,
		"limt=5":                   `unknown query parameter "limt": use state, target, event_id, since, before, limit`,
		"state=dead&state=pending": `query parameter "state" given more than once`,
	} {
		tb.do(t, "GET", "/v1/deliveries?"+query, "").wantError(t, http.StatusBadRequest, msg)
	}
	tb.do(t, "GET", "/v1/deliveries?limit=1000", "").want(t, http.StatusOK)

	tb.b.set(func(b *fakeBackend) { b.listErr = hook.ErrUnavailable })
	a := tb.do(t, "GET", "/v1/deliveries", "")
	a.wantError(t, http.StatusServiceUnavailable, "store unavailable, try again")
	if a.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", a.header.Get("Retry-After"))
	}
}

func TestGetDelivery(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "GET", "/v1/deliveries/42", "").want(t, http.StatusOK)
	if a.json["id"] != float64(42) || a.json["state"] != "dead" || a.json["target"] != "http_events.global" {
		t.Errorf("delivery = %s", a.raw)
	}
	if ev, _ := a.json["event"].(map[string]any); ev["EVENT_ID"] != "ev-2" {
		t.Errorf("delivery event = %s", a.raw)
	}
	if log, _ := a.json["attempts_log"].([]any); len(log) != 1 {
		t.Errorf("delivery history = %s", a.raw)
	}

	tb.do(t, "GET", "/v1/deliveries/7", "").wantError(t, http.StatusNotFound, "delivery 7 not found")
	tb.do(t, "GET", "/v1/deliveries/abc", "").wantError(t, http.StatusBadRequest, `delivery id "abc": must be a positive integer`)
	tb.do(t, "GET", "/v1/deliveries/0", "").wantError(t, http.StatusBadRequest, `delivery id "0": must be a positive integer`)
	tb.do(t, "GET", "/v1/deliveries/99999999999999999999", "").want(t, http.StatusBadRequest)
	tb.do(t, "GET", "/v1/deliveries/503", "").wantError(t, http.StatusServiceUnavailable, "store unavailable, try again")
	tb.do(t, "GET", "/v1/deliveries/500", "").wantError(t, http.StatusInternalServerError, "internal error")
}

func TestRetryAndDiscard(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "POST", "/v1/deliveries/42/retry", "").want(t, http.StatusAccepted)
	if a.raw != `{"id":42,"status":"queued"}`+"\n" {
		t.Errorf("retry = %s", a.raw)
	}
	a = tb.do(t, "POST", "/v1/deliveries/42/discard", "").want(t, http.StatusOK)
	if a.raw != `{"id":42,"status":"discarded"}`+"\n" {
		t.Errorf("discard = %s", a.raw)
	}

	for _, action := range []string{"retry", "discard"} {
		tb.do(t, "POST", "/v1/deliveries/41/"+action, "").wantError(t, http.StatusConflict, "delivery 41 is delivered: conflict")
		tb.do(t, "POST", "/v1/deliveries/7/"+action, "").wantError(t, http.StatusNotFound, "delivery 7 not found")
		tb.do(t, "POST", "/v1/deliveries/x/"+action, "").wantError(t, http.StatusBadRequest, `delivery id "x": must be a positive integer`)
	}
}

// TestRetryMatchingLimit: a bulk replay takes limit (1 to 10000) and
// passes it on, so that a client can replay in rounds; without it the
// filter's Limit stays 0 (every match).
func TestRetryMatchingLimit(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	for _, tc := range []struct {
		query string
		limit int
	}{
		{"", 0},
		{"limit=1", 1},
		{"limit=500&state=retrying", 500},
		{"limit=10000", 10000},
	} {
		tb.do(t, "POST", "/v1/deliveries/retry?"+tc.query, "").want(t, http.StatusOK)
		tb.b.set(func(b *fakeBackend) {
			if b.retried.Limit != tc.limit {
				t.Errorf("%q: filter limit %d, want %d", tc.query, b.retried.Limit, tc.limit)
			}
		})
	}
	const allowed = "must be a number from 1 to 10000 (leave it out to replay every match)"
	for query, msg := range map[string]string{
		"limit=0":           `limit "0": ` + allowed,
		"limit=10001":       `limit "10001": ` + allowed,
		"limit=-3":          `limit "-3": ` + allowed,
		"limit=many":        `limit "many": ` + allowed,
		"limit=":            `limit "": ` + allowed,
		"limit=1&limit=2":   `query parameter "limit" given more than once`,
		"lmit=5":            `unknown query parameter "lmit": use state, target, since, limit, force`,
		"state=pending":     `state "pending": a replay takes dead, discarded or retrying deliveries (dead when left out)`,
		"limit=5&since=bad": `since "bad": must be a duration back from now (90m, 24h), an RFC 3339 time (2026-11-29T10:00:00Z) or a UTC date and time (2026-11-29 10:00)`,
	} {
		tb.do(t, "POST", "/v1/deliveries/retry?"+query, "").wantError(t, http.StatusBadRequest, msg)
	}
}

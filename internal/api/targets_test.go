package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

func TestTargets(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "GET", "/v1/targets", "").want(t, http.StatusOK)
	if !strings.Contains(a.raw, `"name":"jwt_webhook","state":"enabled"`) || !strings.Contains(a.raw, `"pending":2`) {
		t.Errorf("targets = %s", a.raw)
	}
	tb.do(t, "POST", "/v1/targets/jwt_webhook/pause", `{"reason":"maintenance"}`).want(t, http.StatusOK)
	tb.b.set(func(b *fakeBackend) {
		if b.targets["jwt_webhook"] != hook.TargetPaused || b.reasons["jwt_webhook"] != "maintenance" {
			t.Errorf("after pause: %v %v", b.targets, b.reasons)
		}
	})
	a = tb.do(t, "POST", "/v1/targets/jwt_webhook/resume", "").want(t, http.StatusOK)
	if a.json["state"] != "enabled" {
		t.Errorf("resume answered %s", a.raw)
	}
	tb.do(t, "POST", "/v1/targets/jwt_webhook/resume", "").wantError(t, http.StatusConflict, `target "jwt_webhook" is not paused: conflict`)
	tb.do(t, "POST", "/v1/targets/jwt_webhook/disable", "").want(t, http.StatusOK)
	tb.b.set(func(b *fakeBackend) {
		if b.reasons["jwt_webhook"] != "disabled by an operator" {
			t.Errorf("a disable without a reason: %q", b.reasons["jwt_webhook"])
		}
	})
	tb.do(t, "POST", "/v1/targets/jwt_webhook/enable", "").want(t, http.StatusOK)
	tb.do(t, "POST", "/v1/targets/nope/disable", "").wantError(t, http.StatusNotFound, `no target "nope"`)
	tb.do(t, "POST", "/v1/targets/jwt_webhook/explode", "").wantError(t, http.StatusNotFound, `no action "explode"; use disable, enable, pause or resume`)
	tb.do(t, "POST", "/v1/targets/jwt_webhook/pause", `{"why":"x"}`).want(t, http.StatusBadRequest)
	tb.do(t, "POST", "/v1/targets/jwt_webhook/pause", strings.Repeat(" ", 5000)).want(t, http.StatusRequestEntityTooLarge)
}

func TestRetryMatching(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "POST", "/v1/deliveries/retry?target=jwt_webhook&since=2026-01-02T03:04:05Z", "").want(t, http.StatusOK)
	if a.raw != `{"retried":7}`+"\n" {
		t.Errorf("answer %s", a.raw)
	}
	tb.b.set(func(b *fakeBackend) {
		if b.retried.Target != "jwt_webhook" || !b.retried.Since.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || b.retried.State != hook.StateDead {
			t.Errorf("filter %+v", b.retried)
		}
	})
	before := time.Now()
	tb.do(t, "POST", "/v1/deliveries/retry?state=discarded&since=24h", "").want(t, http.StatusOK)
	tb.b.set(func(b *fakeBackend) {
		if b.retried.State != hook.StateDiscarded || b.retried.Since.Before(before.Add(-24*time.Hour)) || b.retried.Since.After(time.Now().Add(-24*time.Hour)) {
			t.Errorf("filter %+v", b.retried)
		}
	})
	for query, msg := range map[string]string{
		"state=delivered": `state "delivered": a replay takes dead, discarded or retrying deliveries (dead when left out)`,
		"since=yesterday": `since "yesterday": must be a duration back from now (90m, 24h), an RFC 3339 time (2026-11-29T10:00:00Z) or a UTC date and time (2026-11-29 10:00)`,
		"targte=x":        `unknown query parameter "targte": use state, target, since, limit, force`,
	} {
		tb.do(t, "POST", "/v1/deliveries/retry?"+query, "").wantError(t, http.StatusBadRequest, msg)
	}
	tb.do(t, "POST", "/v1/deliveries/retry?target=nope", "").wantError(t, http.StatusNotFound, `no target "nope"`)
}

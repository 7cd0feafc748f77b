package api_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/api"
)

// TestProbes: /livez answers while the process serves; /readyz follows
// the backend's readiness (a stopping runtime is not ready, and neither
// is one whose store is down); neither needs the token.
func TestProbes(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{Token: secret})
	tb.do(t, "GET", "/livez", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/readyz", "").want(t, http.StatusOK)

	tb.b.set(func(b *fakeBackend) { b.readyErr = errors.New("stopping") })
	tb.do(t, "GET", "/livez", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/readyz", "").want(t, http.StatusServiceUnavailable)
	tb.do(t, "GET", "/healthz", "").want(t, http.StatusOK)

	tb.b.set(func(b *fakeBackend) { b.readyErr, b.healthErr = nil, errors.New("database is down") })
	tb.do(t, "GET", "/livez", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/readyz", "").want(t, http.StatusServiceUnavailable)
}

// TestMetricsRoute: GET /metrics is served when a handler is given, behind
// the token when there is one.
func TestMetricsRoute(t *testing.T) {
	t.Parallel()
	m := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hookd_up 1\n")) })
	tb := setup(t, api.Options{Token: secret, Metrics: m})
	tb.do(t, "GET", "/metrics", "").want(t, http.StatusUnauthorized)
	a := tb.do(t, "GET", "/metrics", "", "Authorization", "Bearer "+secret).want(t, http.StatusOK)
	if a.raw != "hookd_up 1\n" {
		t.Errorf("metrics = %q", a.raw)
	}
	setup(t, api.Options{}).do(t, "GET", "/metrics", "").want(t, http.StatusNotFound) // none given
}

// TestPublic: the public handler serves the JWKS and the probes, hides
// why it is unhealthy, and nothing else: not /v1/, not /metrics.
func TestPublic(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	b.jwks = []byte(`{"keys":[]}`)
	srv := httptest.NewServer(api.NewPublic(b, nil))
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/.well-known/jwks.json", "/healthz", "/livez", "/readyz"} {
		if code, body := get(path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	for _, path := range []string{"/v1/deliveries", "/v1/events", "/metrics", "/admin/"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
	b.set(func(b *fakeBackend) { b.healthErr = errors.New("dial tcp 10.0.0.5:5432: refused") })
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || strings.Contains(body, "10.0.0.5") {
		t.Errorf("unhealthy /readyz = %d %s", code, body)
	}
}

package api_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/api"
)

const secret = "s3cr3t-t0ken"

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{Token: secret})

	a := tb.do(t, "GET", "/v1/deliveries", "")
	a.wantError(t, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	if got := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want Bearer", got)
	}
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Basic "+secret).
		wantError(t, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer wrong").
		wantError(t, http.StatusUnauthorized, "invalid bearer token")
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret+"x").
		wantError(t, http.StatusUnauthorized, "invalid bearer token")
	tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, "Content-Type", "application/json").
		want(t, http.StatusUnauthorized)
	tb.do(t, "POST", "/v1/deliveries/42/retry", "").want(t, http.StatusUnauthorized)
	// Unknown /v1/ paths do not tell anything before the token is checked.
	tb.do(t, "GET", "/v1/nope", "").want(t, http.StatusUnauthorized)

	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret).want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "bearer "+secret).want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/nope", "", "Authorization", "Bearer "+secret).want(t, http.StatusNotFound)

	// JWKS and health stay open.
	tb.do(t, "GET", "/.well-known/jwks.json", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/healthz", "").want(t, http.StatusOK)

	tb.srv.Close() // waits for the handlers, and so for their log records
	if logs := tb.logs.String(); strings.Contains(logs, secret) {
		t.Errorf("the token appears in the logs:\n%s", logs)
	}
}

func TestAuthOff(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.do(t, "GET", "/v1/deliveries", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/deliveries/42", "", "Authorization", "Bearer anything").want(t, http.StatusOK)
}

func TestNotFoundAndMethod(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.do(t, "GET", "/nope", "").wantError(t, http.StatusNotFound, "no such path: /nope")
	tb.do(t, "GET", "/v1/deliveries/42/nope", "").want(t, http.StatusNotFound)

	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/v1/events", "POST"},
		{"DELETE", "/v1/deliveries/42", "GET, HEAD"},
		{"GET", "/v1/deliveries/42/retry", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
		{"PUT", "/.well-known/jwks.json", "GET, HEAD"},
	} {
		a := tb.do(t, tc.method, tc.path, "")
		a.wantError(t, http.StatusMethodNotAllowed,
			"method "+tc.method+" not allowed on "+tc.path+"; allowed: "+tc.allow)
		if got := a.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{Token: secret})
	a := tb.do(t, "GET", "/.well-known/jwks.json", "").want(t, http.StatusOK)
	if a.raw != `{"keys":[]}` {
		t.Errorf("JWKS without keys = %s", a.raw)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := a.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("Cache-Control = %q", cc)
	}

	keys := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	tb.b.set(func(b *fakeBackend) { b.jwks = []byte(keys) })
	if a := tb.do(t, "GET", "/.well-known/jwks.json", "").want(t, http.StatusOK); a.raw != keys {
		t.Errorf("JWKS = %s, want %s", a.raw, keys)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "GET", "/healthz", "").want(t, http.StatusOK)
	if a.json["status"] != "ok" {
		t.Errorf("health = %s", a.raw)
	}

	tb.b.set(func(b *fakeBackend) { b.healthErr = errors.New("database is down") })
	a = tb.do(t, "GET", "/healthz", "").want(t, http.StatusServiceUnavailable)
	if a.json["status"] != "unavailable" || a.json["error"] != "database is down" {
		t.Errorf("health = %s", a.raw)
	}

	// With a token the API is exposed; the open endpoint hides the cause.
	tb = setup(t, api.Options{Token: secret})
	tb.b.set(func(b *fakeBackend) { b.healthErr = errors.New("dial tcp 10.0.0.5:5432: refused") })
	a = tb.do(t, "GET", "/healthz", "").want(t, http.StatusServiceUnavailable)
	if a.json["status"] != "unavailable" || strings.Contains(a.raw, "10.0.0.5") {
		t.Errorf("health = %s", a.raw)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.do(t, "GET", "/healthz", "").want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/deliveries/7", "").want(t, http.StatusNotFound)
	tb.srv.Close()
	logs := tb.logs.String()
	for _, want := range []string{
		`level=DEBUG msg="api request" method=GET path=/healthz status=200 duration=`,
		`method=GET path=/v1/deliveries/7 status=404 duration=`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestPanicIsAnswered(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.b.set(func(b *fakeBackend) { b.panicOn = "Emit" })
	tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, "Content-Type", "application/json").
		wantError(t, http.StatusInternalServerError, "internal error")
	tb.srv.Close()
	if logs := tb.logs.String(); !strings.Contains(logs, "api handler panicked") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

func TestNewNilBackendPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil) did not panic")
		}
	}()
	api.New(nil, api.Options{})
}

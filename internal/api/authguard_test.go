package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/authguard"
)

// TestWrongTokensSlowed: an address that keeps sending wrong bearer tokens
// is answered 429 with Retry-After, its tokens unchecked, until its wait
// is over; before, 300 wrong tokens in 6 s were all checked and the right
// one then worked at once.
func TestWrongTokensSlowed(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := httptest.NewServer(api.New(b, api.Options{Token: secret, Logger: slog.New(slog.DiscardHandler), Now: clock.now}))
	t.Cleanup(srv.Close)
	tb := &testBundle{b: b, srv: srv, logs: &logBuffer{}}

	checked := 0
	var last answer
	for range 300 {
		last = tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer guess")
		switch last.status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("a wrong token answered %d: %s", last.status, last.raw)
		}
	}
	if checked != authguard.DefaultFree+1 {
		t.Errorf("%d of 300 wrong tokens were checked, want %d", checked, authguard.DefaultFree+1)
	}
	last.want(t, http.StatusTooManyRequests)
	if got := last.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (the first wait)", got)
	}
	// While it waits, even the right token is not checked.
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret).want(t, http.StatusTooManyRequests)
	// A request without a token is no guess: it is told what is missing.
	tb.do(t, "GET", "/v1/deliveries", "").want(t, http.StatusUnauthorized)

	clock.add(time.Second)
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer guess").want(t, http.StatusUnauthorized)
	a := tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret).want(t, http.StatusTooManyRequests)
	if got := a.header.Get("Retry-After"); got != "2" {
		t.Errorf("after another wrong token Retry-After = %q, want 2 (doubled)", got)
	}
	clock.add(2 * time.Second)
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret).want(t, http.StatusOK)
	// The right token cleared the address: typos are free again.
	for range authguard.DefaultFree {
		tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer typo").want(t, http.StatusUnauthorized)
	}
	tb.do(t, "GET", "/v1/deliveries", "", "Authorization", "Bearer "+secret).want(t, http.StatusOK)
}

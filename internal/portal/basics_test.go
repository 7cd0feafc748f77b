package portal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryPageRendersWithoutLogin: every template parses (New would
// panic), every page but the login form and the static files sends a
// visitor without a session to the login form, and every action refuses
// one; nothing reaches the backend (nopBackend would answer).
func TestEveryPageRendersWithoutLogin(t *testing.T) {
	t.Parallel()
	h := New(nopBackend{}, Options{}).(*server)
	for _, rt := range h.routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if path == "" {
			method, path = "GET", method
		}
		path = strings.NewReplacer("{$}", "", "{id}", "1", "{version}", "1", "{file}", "hookd.css").Replace(path)
		r := httptest.NewRequest(method, "http://portal.example"+path, nil)
		r.Header.Set("Origin", "http://portal.example")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Result()
		if csp := got.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: no CSP: %q", rt.pattern, csp)
		}
		switch {
		case path == "/portal/login" && method == "GET", path == "/portal/static/hookd.css":
			if got.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", rt.pattern, got.StatusCode)
			}
		case path == "/portal/login": // a wrong (empty) token
			if got.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d", rt.pattern, got.StatusCode)
			}
		case path == "/portal/":
			if got.StatusCode != http.StatusNotFound && got.StatusCode != http.StatusSeeOther {
				t.Errorf("%s: %d", rt.pattern, got.StatusCode)
			}
		case method == "GET":
			if got.StatusCode != http.StatusSeeOther || got.Header.Get("Location") != "/portal/login" {
				t.Errorf("%s without a session: %d %s", rt.pattern, got.StatusCode, got.Header.Get("Location"))
			}
		default:
			if got.StatusCode != http.StatusForbidden {
				t.Errorf("%s without a session: %d", rt.pattern, got.StatusCode)
			}
		}
	}
}

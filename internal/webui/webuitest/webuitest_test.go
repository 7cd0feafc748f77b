package webuitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestClient: the stand-in logs in through a form (keeping the session
// cookie), reads the page's CSRF token, does not follow redirects, and
// sends Origin with its POSTs unless told to leave it out.
func TestClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /p/login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("token") != "good" || r.Header.Get("Origin") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1", Path: "/"})
		http.Redirect(w, r, "/p/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /p/{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("s"); err != nil {
			http.Redirect(w, r, "/p/login", http.StatusSeeOther)
			return
		}
		io.WriteString(w, `<form><input type="hidden" name="csrf" value="tok-42"></form>`)
	})
	mux.HandleFunc("POST /p/echo", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin="+r.Header.Get("Origin"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := &Client{T: t, Base: srv.URL, HTTP: NewHTTPClient()}

	if r := c.Get("/p/"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/p/login" {
		t.Fatalf("before login: %d %s; want a 303 to the login form (not followed)", r.Status, r.Header.Get("Location"))
	}
	if got := c.Login("/p", "good"); got != "tok-42" {
		t.Errorf("Login returned %q; want the page's CSRF token", got)
	}
	if r := c.Post("/p/echo", url.Values{}); r.Body != "origin="+srv.URL {
		t.Errorf("a POST sends %q; want its origin", r.Body)
	}
	if r := c.Post("/p/echo", url.Values{}, "Origin", ""); r.Body != "origin=" {
		t.Errorf("a POST without Origin sends %q", r.Body)
	}
	if r := c.Follow(c.Post("/p/login", url.Values{"token": {"good"}})); r.Status != http.StatusOK || CSRFField.FindStringSubmatch(r.Body) == nil {
		t.Errorf("following the login's redirect: %d %s", r.Status, r.Body)
	}
}

package webui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// TestCheckEndsRevokedSessions: a site with a Check re-judges the login's
// credential at every request, so a token revoked after the login ends
// its session at once (the portal's domain tokens); before Check, a
// session lived its TTL whatever became of the token.
func TestCheckEndsRevokedSessions(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	valid := map[string]string{"tok-a": "a"}
	check := func(_ context.Context, token string) (hook.Principal, error) {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := valid[token]; ok {
			return hook.Principal{Domain: d}, nil
		}
		return hook.Principal{}, fmt.Errorf("token: %w", hook.ErrNotFound)
	}
	s := NewSite(Options{Prefix: "/p/", Cookie: "p", Name: "test", Assets: os.DirFS("testdata"),
		Pages: []string{"login", "error", "home"}, Check: check})
	s.HandleFunc("GET /p/login", s.LoginForm)
	s.HandleFunc("POST /p/login", s.Login(check, "wrong token"))
	s.HandleFunc("GET /p/{$}", s.Page(func(w http.ResponseWriter, r *http.Request, se *Session) {
		s.Render(w, r, http.StatusOK, "home", s.NewView(r, se, "Home", "home"))
	}))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	post := func(token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/p/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("tok-b"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", r.StatusCode)
	}
	if r := post("tok-a"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/p/" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r, body := get("/p/"); r.StatusCode != http.StatusOK || !strings.Contains(body, "home a") {
		t.Fatalf("after login: %d %s", r.StatusCode, body)
	}
	mu.Lock()
	delete(valid, "tok-a") // revoked
	mu.Unlock()
	if r, _ := get("/p/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/p/login" {
		t.Fatalf("after the token was revoked: %d %s; want the login form", r.StatusCode, r.Header.Get("Location"))
	}
	if n := s.Sessions.Len(); n != 0 {
		t.Errorf("%d sessions kept after the revocation", n)
	}
	// A check that cannot answer (the store is down) is not a logout.
	mu.Lock()
	valid["tok-a"] = "a"
	mu.Unlock()
	post("tok-a")
	s.check = func(context.Context, string) (hook.Principal, error) {
		return hook.Principal{}, fmt.Errorf("store: %w", hook.ErrUnavailable)
	}
	if r, _ := get("/p/"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with the store down: %d; want 503", r.StatusCode)
	}
	if n := s.Sessions.Len(); n != 1 {
		t.Errorf("%d sessions after a failed check; want the one kept", n)
	}
}

// TestMessage: the sentinel words of the runtime's refusals are not shown.
func TestMessage(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]string{
		hook.Invalid("the module is not WebAssembly"):               "the module is not WebAssembly",
		fmt.Errorf("version 3 is active: %w", hook.ErrConflict):     "version 3 is active",
		fmt.Errorf("upload refused: %w", hook.Invalid("too large")): "upload refused: too large",
		fmt.Errorf("delivery 4: %w", hook.ErrNotFound):              "delivery 4: not found",
		errors.New(strings.Repeat("x", 600)):                        strings.Repeat("x", 500) + "…",
	} {
		if got := Message(err); got != want {
			t.Errorf("Message(%q) = %q; want %q", err, got, want)
		}
	}
}

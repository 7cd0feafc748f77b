package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:7700", "http://127.0.0.1:7700"},
		{"127.0.0.1:7700", "http://127.0.0.1:7700"},
		{"https://hookd.example/prefix/", "https://hookd.example/prefix"},
		{"[::1]:7700", "http://[::1]:7700"},
		{"ftp://x", ""},
		{"http://", ""},
		{"http://u:p@host:1", ""},
		{"http://host:1/?q=1", ""},
		{"", ""},
	} {
		u, err := parseAddr(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: %s, want an error", tc.in, u)
		case tc.want != "" && (err != nil || u.String() != tc.want):
			t.Errorf("%q: %v %v, want %s", tc.in, u, err, tc.want)
		}
	}
}

// testClient is a client of srv, as the commands make it.
func testClient(t *testing.T, srv *httptest.Server, opts clientOpts) *client {
	t.Helper()
	opts.addr = srv.URL
	if opts.timeout == 0 {
		opts.timeout = 30 * time.Second
	}
	c, err := opts.client(newFlags("test"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientAnswers: the client sends the token, reads no more than its
// bound, turns an answer that is not 2xx into the API's error text (or
// the cleaned start of a proxy's page), follows no redirect, and gives up
// at its timeout.
func TestClientAnswers(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth":
			io.WriteString(w, `{"auth":"`+r.Header.Get("Authorization")+`"}`)
		case "/big":
			w.Write([]byte(strings.Repeat("x", 2000)))
		case "/api-error":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":"delivery 41 is delivered: conflict"}`)
		case "/html":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>\x1b[2J bad gateway</html>")
		case "/redirect":
			http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	ctx := context.Background()

	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("tok-1\n"), 0o600)
	c := testClient(t, srv, clientOpts{tokenFile: tokenFile})
	var auth struct{ Auth string }
	if _, err := c.get(ctx, "/auth", nil, &auth); err != nil || auth.Auth != "Bearer tok-1" {
		t.Errorf("token: %v %q", err, auth.Auth)
	}
	c.maxBytes = 1000
	if _, err := c.do(ctx, "GET", "/big", nil, nil); err == nil || err.Error() != "GET /big: the answer is larger than 1000 bytes" {
		t.Errorf("a large answer: %v", err)
	}
	_, err := c.do(ctx, "POST", "/api-error", nil, nil)
	if ae, ok := errors.AsType[*apiError](err); !ok || ae.Status != 409 || err.Error() != "POST /api-error: 409 Conflict: delivery 41 is delivered: conflict" {
		t.Errorf("an API error: %v", err)
	}
	if _, err := c.do(ctx, "GET", "/html", nil, nil); err == nil || err.Error() != `GET /html: 502 Bad Gateway: <html>\u001b[2J bad gateway</html>` {
		t.Errorf("a proxy's page: %v", err)
	}
	if _, err := c.do(ctx, "GET", "/redirect", nil, nil); err == nil || !strings.Contains(err.Error(), "302 Found") {
		t.Errorf("a redirect: %v", err)
	}
	slow := testClient(t, srv, clientOpts{timeout: 50 * time.Millisecond})
	if _, err := slow.do(ctx, "GET", "/hang", nil, nil); err == nil || !strings.Contains(err.Error(), "Client.Timeout exceeded") {
		t.Errorf("a hanging server: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.do(cctx, "GET", "/hang", nil, nil); err == nil || err.Error() != "GET /hang: interrupted" {
		t.Errorf("an interrupted request: %v", err)
	}
}

// TestClientToken: -token-file wins over $HOOKD_TOKEN; a token file others
// can read, or a token with spaces, is refused.
func TestClientToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), mode)
		os.Chmod(p, mode)
		return p
	}
	t.Setenv("HOOKD_TOKEN", " env-token\n")
	for _, tc := range []struct {
		file, want, err string
	}{
		{"", "env-token", ""},
		{write("ok", "file-token\n", 0o600), "file-token", ""},
		{write("loose", "file-token\n", 0o644), "", "is readable by group or others (mode 0644)"},
		{write("two", "a b\n", 0o600), "", "must hold one token"},
		{filepath.Join(dir, "missing"), "", "missing does not exist"},
	} {
		got, err := (&clientOpts{tokenFile: tc.file}).readToken()
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %q %v, want %q %q", tc.file, got, err, tc.want, tc.err)
		}
	}
	t.Setenv("HOOKD_TOKEN", "a b")
	if _, err := (&clientOpts{}).readToken(); err == nil || !strings.Contains(err.Error(), "$HOOKD_TOKEN must hold one token") {
		t.Errorf("a token with a space: %v", err)
	}
}

package webapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

// patience bounds every wait on a signal; a test that needs longer is broken.
const patience = 30 * time.Second

// seedParams is the seed's example template.
const seedParams = `"userName": {{name}}, "userDomain": {{domain}}`

// request is what the fake service recorded of one request.
type request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// fake is a loopback account/1 service: it records every request and
// answers with its handler.
type fake struct {
	*httptest.Server
	// release is closed when the test ends; handlers that block wait on it
	// (or on the request's context).
	release chan struct{}

	mu     sync.Mutex
	reqs   []request
	answer http.HandlerFunc
}

// newFake starts a fake service answering with h.
func newFake(t testing.TB, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{release: make(chan struct{}), answer: h}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		h := f.answer
		f.mu.Unlock()
		h(w, r)
	}))
	// Cleanups run last-in first-out: release the blocked handlers first,
	// then close the server (which waits for them).
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(f.release) })
	return f
}

// set makes h the answer to the next requests.
func (f *fake) set(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = h
}

// requests returns what was received so far.
func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// last returns the only request received, failing the test otherwise.
func (f *fake) last(t testing.TB) request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("the service got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// answerJSON answers status with body as JSON.
func answerJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// blocking never answers: it waits until the client gives up or the test
// ends.
func (f *fake) blocking(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// provision returns a provisioned service for url with every switch on and
// a 2 s timeout, changed by edit, and its log.
func provision(t testing.TB, url string, edit func(*webapi.Service)) (*webapi.Service, *logBuffer) {
	t.Helper()
	s := &webapi.Service{
		URL: url, Timeout: hook.Duration(2 * time.Second),
		UseSignup: true, UseNotification: true, UseForgotPassword: true,
		NotificationParams: seedParams,
	}
	if edit != nil {
		edit(s)
	}
	logs := &logBuffer{}
	env := hook.Env{
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		UserAgent: "hookd/test",
	}
	if err := s.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/webapi2"
}

// contains fails the test unless s contains every one of want.
func contains(t testing.TB, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

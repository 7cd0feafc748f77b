// Package deliverytest holds what the tests of every target kind need to
// check a target's delivery settings (issue 18) from the receiver's side:
// a loopback receiver that records each request, a signing secret, a
// secret file in a private directory, and a check of the Standard
// Webhooks headers and v1 signature. The modules' tests (JWT webhook,
// HTTP events, WebAPI, command sink) share it, so that "the header from
// the file arrived, the request is signed" is written once.
//
// The check of the signature here is the specification's formula, for
// the modules' tests; the libraries of the specification judge hookd's
// signatures in internal/delivery's and cmd/hookd's tests (nodetest).
package deliverytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Patience bounds a wait for requests: a bound for a hung test, not a
// budget the test is meant to meet.
const Patience = 30 * time.Second

// Request is what a [Receiver] recorded of one request.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is a loopback HTTP server that records every request and
// answers with Answer (204 No Content when nil).
type Receiver struct {
	*httptest.Server

	mu     sync.Mutex
	reqs   []Request
	signal chan struct{}
	answer http.HandlerFunc
}

// NewReceiver starts a receiver answering with answer (nil: 204), closed
// when t ends.
func NewReceiver(t testing.TB, answer http.HandlerFunc) *Receiver {
	t.Helper()
	r := &Receiver{signal: make(chan struct{}, 1), answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
		if r.answer != nil {
			r.answer(w, req)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// Requests returns the requests so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Wait waits until at least n requests arrived and returns them.
func (r *Receiver) Wait(t testing.TB, n int) []Request {
	t.Helper()
	deadline := time.After(Patience)
	for {
		if got := r.Requests(); len(got) >= n {
			return got
		}
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("waited for %d requests at %s; got %d", n, r.URL, len(r.Requests()))
		}
	}
}

// Secret returns a fresh Standard Webhooks secret ("whsec_" + base64 of
// 32 random bytes) and its key bytes.
func Secret(t testing.TB) (string, []byte) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key), key
}

// WriteSecretFile writes content to dir/name with mode 0600, as a secret
// in the private directory must be.
func WriteSecretFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// CheckSigned fails t unless req carries the Standard Webhooks headers:
// webhook-id equal to X-Event-Id (when wantID is "", any non-empty id),
// a webhook-timestamp within a day of now, and a v1 signature of
// "id.timestamp.body" by key among webhook-signature's.
func CheckSigned(t testing.TB, req Request, key []byte, wantID string) {
	t.Helper()
	id, ts, sigs := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	switch {
	case id == "":
		t.Fatalf("no webhook-id; headers %v", req.Header)
	case wantID != "" && id != wantID:
		t.Errorf("webhook-id %q; want %q (the event's id)", id, wantID)
	case req.Header.Get("X-Event-Id") != "" && id != req.Header.Get("X-Event-Id"):
		t.Errorf("webhook-id %q differs from X-Event-Id %q", id, req.Header.Get("X-Event-Id"))
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 24*time.Hour {
		t.Errorf("webhook-timestamp %q: want unix seconds about now", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(req.Body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return
		}
	}
	t.Errorf("webhook-signature %q has no valid v1 signature of the body by the secret", sigs)
}

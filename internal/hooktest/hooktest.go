// Package hooktest holds what tests of hookd's modules share: a loopback
// receiver whose answer a test can switch and whose requests it can wait
// for, and a collector of delivery outcomes to wait on, so that tests wait
// on signals, never on sleeps.
package hooktest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Patience bounds every wait; a test that needs longer is broken.
const Patience = 30 * time.Second

// Request is what a Receiver recorded of one request.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Receiver is a loopback HTTP server that records every request and
// answers with its current mode.
type Receiver struct {
	*httptest.Server
	// Release is closed when the test ends: modes that block wait on it.
	Release chan struct{}

	mu   sync.Mutex
	mode http.HandlerFunc
	reqs []Request
	ch   chan struct{}
}

// NewReceiver starts a receiver answering with mode.
func NewReceiver(t testing.TB, mode http.HandlerFunc) *Receiver {
	r := &Receiver{Release: make(chan struct{}), mode: mode, ch: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		mode := r.mode
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
		mode(w, req)
	}))
	t.Cleanup(func() {
		close(r.Release)
		r.Server.Close()
	})
	return r
}

// Set switches the answer.
func (r *Receiver) Set(mode http.HandlerFunc) {
	r.mu.Lock()
	r.mode = mode
	r.mu.Unlock()
}

// Requests returns a copy of what was received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// WaitRequests blocks until at least n requests arrived.
func (r *Receiver) WaitRequests(t testing.TB, n int) []Request {
	t.Helper()
	deadline := time.After(Patience)
	for {
		if reqs := r.Requests(); len(reqs) >= n {
			return reqs
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d requests; got %d", n, len(r.Requests()))
		}
	}
}

// Status answers code with body.
func Status(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// Block answers nothing until the test ends (a receiver that hangs).
func (r *Receiver) Block() http.HandlerFunc {
	return func(http.ResponseWriter, *http.Request) { <-r.Release }
}

// Reset closes the connection without an answer.
func Reset(w http.ResponseWriter, _ *http.Request) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
		}
	}
}

// Observations collects delivery outcomes (pass Observe to
// runtime.WithObserver) and lets a test wait for a condition over them.
type Observations struct {
	mu   sync.Mutex
	seen []hook.Observation
	ch   chan struct{}
}

// NewObservations returns an empty collector.
func NewObservations() *Observations { return &Observations{ch: make(chan struct{}, 1)} }

// Observe records one outcome.
func (o *Observations) Observe(_ context.Context, ob hook.Observation) {
	o.mu.Lock()
	o.seen = append(o.seen, ob)
	o.mu.Unlock()
	select {
	case o.ch <- struct{}{}:
	default:
	}
}

// Seen returns a copy of the outcomes so far.
func (o *Observations) Seen() []hook.Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]hook.Observation(nil), o.seen...)
}

// Wait blocks until cond holds over what was observed, or fails the test.
func (o *Observations) Wait(t testing.TB, what string, cond func([]hook.Observation) bool) []hook.Observation {
	t.Helper()
	deadline := time.After(Patience)
	for {
		seen := o.Seen()
		if cond(seen) {
			return seen
		}
		select {
		case <-o.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; observed %+v", what, seen)
		}
	}
}

// Count returns how many outcomes of target (any when "") are in state.
func Count(obs []hook.Observation, state hook.DeliveryState, target string) int {
	n := 0
	for _, o := range obs {
		if o.State == state && (target == "" || o.Target == target) {
			n++
		}
	}
	return n
}

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmarks measure the receiver, not the recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkReceiverJWT is the receiver's cost per EdDSA webhook: parse,
// verify with the cached key, record (go test -bench Receiver -benchmem).
func BenchmarkReceiverJWT(b *testing.B) {
	key := signKey(b, edKey(), "")
	jwks := newJWKSServer(b, key)
	keys := newKeySet(jwks.URL, http.DefaultClient, 0)
	if err := keys.refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	tr := newTracker(time.Now(), testRun, nil)
	rc := newReceiver(modeJWT, tr, keys, time.Minute)
	bodies := make([][]byte, 1000)
	for i := range bodies {
		ev := loadEvent(b, testRun, i)
		tok, err := key.Sign(hookdClaims(ev, time.Now()))
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = []byte(jwtBody(tok))
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(bodies[i%len(bodies)]))
		rc.ServeHTTP(w, r)
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d: %v", w.status, rc.errorSamples())
		}
	}
}

// BenchmarkReceiverEvents is the cost per strict HTTP event.
func BenchmarkReceiverEvents(b *testing.B) {
	tr := newTracker(time.Now(), testRun, nil)
	rc := newReceiver(modeEvents, tr, nil, time.Minute)
	bodies := make([][]byte, 1000)
	for i := range bodies {
		ev := loadEvent(b, testRun, i)
		ev.Fields["EVENT_ID"] = ev.ID + strconv.Itoa(i)
		bodies[i] = hook.AppendForm(nil, ev.Fields, "")
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(bodies[i%len(bodies)]))
		rc.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// records is a slog.Handler that keeps every record, for tests that count
// log lines.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// at returns the records of level min and above.
func (h *records) at(min slog.Level) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.recs {
		if r.Level >= min {
			out = append(out, r)
		}
	}
	return out
}

// attr returns a record's attribute by key, as a string.
func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestStoreOutageLoggedOnce: while the store is down, the refused
// requests are logged as one line when the outage starts, a summary with
// the count refused every 10 s while it lasts, and one line when a write
// succeeds again; before, every refused request logged a WARN line of its
// own (~54 a second per node).
func TestStoreOutageLoggedOnce(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	logs := &records{}
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := httptest.NewServer(api.New(b, api.Options{Logger: slog.New(logs), Now: clock.now}))
	t.Cleanup(srv.Close)
	tb := &testBundle{b: b, srv: srv, logs: &logBuffer{}}
	emit := func() answer {
		return tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, "Content-Type", "application/json")
	}

	b.set(func(b *fakeBackend) { b.emitErr = hook.ErrUnavailable })
	for range 50 {
		emit().want(t, http.StatusServiceUnavailable)
	}
	warns := logs.at(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "refusing requests") {
		t.Fatalf("50 refused requests logged %d WARN lines, want the one that says the outage started: %v", len(warns), messages(warns))
	}

	clock.add(5 * time.Second)
	emit().want(t, http.StatusServiceUnavailable)
	if n := len(logs.at(slog.LevelWarn)); n != 1 {
		t.Fatalf("a summary came before 10 s: %v", messages(logs.at(slog.LevelWarn)))
	}
	clock.add(5 * time.Second)
	emit().want(t, http.StatusServiceUnavailable)
	warns = logs.at(slog.LevelWarn)
	if len(warns) != 2 || warns[1].Message != "store still unavailable" {
		t.Fatalf("after 10 s: WARN lines %v, want the start and one summary", messages(warns))
	}
	if got := attr(warns[1], "refused"); got != "51" {
		t.Errorf("summary refused = %s, want 51 (refused since the first line)", got)
	}
	if got := attr(warns[1], "refused_total"); got != "52" {
		t.Errorf("summary refused_total = %s, want 52", got)
	}

	// A read that works does not end it (on a full disk reads work).
	tb.do(t, "GET", "/v1/deliveries", "").want(t, http.StatusOK)
	b.set(func(b *fakeBackend) { b.emitErr = nil })
	emit().want(t, http.StatusAccepted)
	emit().want(t, http.StatusAccepted)
	infos := logs.at(slog.LevelInfo)
	var ended []slog.Record
	for _, r := range infos {
		if r.Message == "store available again" {
			ended = append(ended, r)
		}
	}
	if len(ended) != 1 {
		t.Fatalf("the end of the outage was logged %d times, want once: %v", len(ended), messages(infos))
	}
	if got := attr(ended[0], "refused_total"); got != "52" {
		t.Errorf("end line refused_total = %s, want 52", got)
	}
	if got := attr(ended[0], "down_for"); got != "10s" {
		t.Errorf("end line down_for = %s, want 10s", got)
	}

	// A second outage starts with a line of its own.
	b.set(func(b *fakeBackend) { b.emitErr = hook.ErrUnavailable })
	emit().want(t, http.StatusServiceUnavailable)
	if warns := logs.at(slog.LevelWarn); len(warns) != 3 || !strings.Contains(warns[2].Message, "refusing requests") {
		t.Fatalf("a second outage: WARN lines %v", messages(warns))
	}
}

func messages(recs []slog.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Message
	}
	return out
}

// TestProbeOutageLoggedOnce: failing health probes during a store outage
// join the outage's lines rather than logging one WARN each, and the
// first probe that passes ends it.
func TestProbeOutageLoggedOnce(t *testing.T) {
	t.Parallel()
	b := newFakeBackend()
	logs := &records{}
	srv := httptest.NewServer(api.New(b, api.Options{Logger: slog.New(logs)}))
	t.Cleanup(srv.Close)
	tb := &testBundle{b: b, srv: srv, logs: &logBuffer{}}
	b.set(func(b *fakeBackend) { b.healthErr = fmt.Errorf("write probe: %w", hook.ErrUnavailable) })
	for range 20 {
		tb.do(t, "GET", "/healthz", "").want(t, http.StatusServiceUnavailable)
		tb.do(t, "GET", "/readyz", "").want(t, http.StatusServiceUnavailable)
	}
	if warns := logs.at(slog.LevelWarn); len(warns) != 1 {
		t.Fatalf("40 failed probes logged %d WARN lines, want 1: %v", len(warns), messages(warns))
	}
	b.set(func(b *fakeBackend) { b.healthErr = nil })
	tb.do(t, "GET", "/healthz", "").want(t, http.StatusOK)
	var ended int
	for _, r := range logs.at(slog.LevelInfo) {
		if r.Message == "store available again" {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("a passing probe after the outage: %d end lines, want 1", ended)
	}
	// A probe failing for another reason (stopping) still says so each time.
	b.set(func(b *fakeBackend) { b.readyErr = errors.New("stopping") })
	tb.do(t, "GET", "/readyz", "").want(t, http.StatusServiceUnavailable)
	if warns := logs.at(slog.LevelWarn); len(warns) != 2 || warns[1].Message != "health check failed" {
		t.Errorf("a readiness failure that is not the store: %v", messages(warns))
	}
}

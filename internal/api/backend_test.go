package api_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/hookrt/hookd/internal/testsupport"
)

// fakeBackend is an in-memory api.Backend: these tests are about the HTTP
// layer; the real runtime is wired and tested end to end elsewhere.
type fakeBackend struct {
	mu         sync.Mutex
	emitted    []map[string]string
	emitErr    error // returned by Emit when set
	listErr    error
	lastFilter hook.DeliveryFilter
	deliveries map[int64]*hook.Delivery
	healthErr  error
	readyErr   error // returned by Ready when healthErr is nil
	jwks       []byte
	panicOn    string // a method that panics
	retried    hook.DeliveryFilter
	targets    map[string]string // name → state
	reasons    map[string]string
}

func newFakeBackend() *fakeBackend {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &fakeBackend{deliveries: map[int64]*hook.Delivery{
		41: {ID: 41, EventID: "ev-1", Target: "jwt_webhook", State: hook.StateDelivered, Attempts: 1, CreatedAt: at, UpdatedAt: at},
		42: {ID: 42, EventID: "ev-2", Target: "http_events.global", State: hook.StateDead, Attempts: 3, CreatedAt: at, UpdatedAt: at,
			LastStatus: 500, LastError: "HTTP 500",
			Event:   map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "EVENT_ID": "ev-2"},
			History: []hook.Attempt{{N: 1, At: at, Latency: time.Second, Status: 500, Response: "<html>"}}},
	}}
}

func (b *fakeBackend) EmitManyWithKey(_ context.Context, key string, events []map[string]string) ([]string, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.panicOn == "Emit" {
		panic("boom")
	}
	if b.emitErr != nil {
		return nil, false, b.emitErr
	}
	switch key {
	case "seen":
		ids := make([]string, len(events))
		for i := range ids {
			ids[i] = fmt.Sprintf("ev-first-%d", i)
		}
		ids[0] = "ev-first"
		return ids, true, nil
	case "reused":
		return nil, false, fmt.Errorf("idempotency key %q was used for event ev-first with other fields: %w", key, hook.ErrConflict)
	}
	ids := make([]string, len(events))
	for i, fields := range events {
		b.emitted = append(b.emitted, fields)
		ids[i] = fmt.Sprintf("ev-%d", 100+len(b.emitted))
	}
	return ids, false, nil
}

func (b *fakeBackend) ListDeliveries(_ context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastFilter = f
	if b.listErr != nil {
		return nil, b.listErr
	}
	var out []hook.Delivery
	for _, id := range []int64{42, 41} {
		if d := b.deliveries[id]; f.State == "" || d.State == f.State {
			out = append(out, hook.Delivery{ID: d.ID, EventID: d.EventID, Target: d.Target, State: d.State})
		}
	}
	return out, nil
}

func (b *fakeBackend) Delivery(_ context.Context, id int64) (*hook.Delivery, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id == 500 {
		return nil, fmt.Errorf("pq: connection to 10.1.2.3 lost")
	}
	if id == 503 {
		return nil, fmt.Errorf("read: %w", hook.ErrUnavailable)
	}
	d, ok := b.deliveries[id]
	if !ok {
		return nil, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	c := *d
	return &c, nil
}

// act moves a delivery to state unless it is already final there.
func (b *fakeBackend) act(id int64, to hook.DeliveryState, refuse hook.DeliveryState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.deliveries[id]
	if !ok {
		return fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if d.State == refuse {
		return fmt.Errorf("delivery %d is %s: %w", id, d.State, hook.ErrConflict)
	}
	d.State = to
	return nil
}

func (b *fakeBackend) Retry(_ context.Context, id int64) error {
	return b.act(id, hook.StatePending, hook.StateDelivered)
}

// RetryForced is Retry: the fake has no disabled targets to refuse.
func (b *fakeBackend) RetryForced(ctx context.Context, id int64) error { return b.Retry(ctx, id) }

func (b *fakeBackend) RetryMatchingForced(ctx context.Context, f hook.DeliveryFilter) (int, error) {
	return b.RetryMatching(ctx, f)
}

func (b *fakeBackend) Plugins() []hook.PluginStatus { return nil }

func (b *fakeBackend) Discard(_ context.Context, id int64) error {
	return b.act(id, hook.StateDiscarded, hook.StateDelivered)
}

func (b *fakeBackend) RetryMatching(_ context.Context, f hook.DeliveryFilter) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.Target != "" && f.Target != "jwt_webhook" {
		return 0, fmt.Errorf("target %q: %w", f.Target, hook.ErrNotFound)
	}
	b.retried = f
	return 7, nil
}

func (b *fakeBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return []hook.TargetStatus{{Name: "jwt_webhook", State: cmpOr(b.targets["jwt_webhook"], hook.TargetEnabled), Breaker: "closed", Pending: 2}}, nil
}

// setTarget changes a target's state, as the runtime does.
func (b *fakeBackend) setTarget(name, state, reason string, resume bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if name != "jwt_webhook" {
		return fmt.Errorf("target %q: %w", name, hook.ErrNotFound)
	}
	if b.targets == nil {
		b.targets, b.reasons = map[string]string{}, map[string]string{}
	}
	if resume && b.targets[name] != hook.TargetPaused {
		return fmt.Errorf("target %q is not paused: %w", name, hook.ErrConflict)
	}
	b.targets[name], b.reasons[name] = state, reason
	return nil
}

func (b *fakeBackend) DisableTarget(_ context.Context, name, reason string) error {
	return b.setTarget(name, hook.TargetDisabled, reason, false)
}

func (b *fakeBackend) PauseTarget(_ context.Context, name, reason string) error {
	return b.setTarget(name, hook.TargetPaused, reason, false)
}

func (b *fakeBackend) EnableTarget(_ context.Context, name string) error {
	return b.setTarget(name, hook.TargetEnabled, "", false)
}

func (b *fakeBackend) ResumeTarget(_ context.Context, name string) error {
	return b.setTarget(name, hook.TargetEnabled, "", true)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (b *fakeBackend) SessionEvents(_ context.Context, id string) ([]hook.SessionEvent, error) {
	if id != "s-1" {
		return []hook.SessionEvent{}, nil
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []hook.SessionEvent{{EventID: "ev-2", CreatedAt: at, Fields: map[string]string{"SESSIONID": "s-1", "EVENT": "START"},
		Targets: []hook.TargetOutcome{{Target: "http_events.global", State: hook.StateDelivered, Attempts: 1, Status: 200, Summary: "nomessage", UpdatedAt: at}}}}, nil
}

func (b *fakeBackend) JWKS() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jwks
}

// set changes the backend's behaviour under its lock.
func (b *fakeBackend) set(change func(b *fakeBackend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	change(b)
}

func (b *fakeBackend) Health(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.healthErr
}

func (b *fakeBackend) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.healthErr != nil {
		return b.healthErr
	}
	return b.readyErr
}

// logBuffer collects log output from the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testBundle is a running API over a fakeBackend.
type testBundle struct {
	b    *fakeBackend
	srv  *httptest.Server
	logs *logBuffer
}

// setup starts the API on a loopback httptest server.
func setup(t *testing.T, opts api.Options) *testBundle {
	t.Helper()
	tb := &testBundle{b: newFakeBackend(), logs: &logBuffer{}}
	opts.Logger = slog.New(slog.NewTextHandler(tb.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tb.srv = httptest.NewServer(api.New(tb.b, opts))
	t.Cleanup(tb.srv.Close)
	return tb
}

// answer is a response, its body decoded when it is a JSON object.
type answer struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

// do sends a request; header holds alternating names and values.
func (tb *testBundle) do(t *testing.T, method, path, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, tb.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, raw := testsupport.Send(t, tb.srv.Client(), req)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.json)
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s %s: X-Content-Type-Options = %q", method, path, got)
	}
	return a
}

// want checks the status and, for errors, the JSON error shape.
func (a answer) want(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d; body %s", a.status, status, a.raw)
	}
	if status >= 400 {
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("error Content-Type = %q, want application/json", ct)
		}
		if msg, _ := a.json["error"].(string); msg == "" {
			t.Errorf(`error body %q has no "error"`, a.raw)
		}
	}
	return a
}

// wantError checks the status and the exact error message.
func (a answer) wantError(t *testing.T, status int, msg string) {
	t.Helper()
	a.want(t, status)
	if got := a.json["error"]; got != msg {
		t.Errorf("error = %q, want %q", got, msg)
	}
}

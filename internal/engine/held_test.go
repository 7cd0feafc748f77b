package engine_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// logBuffer is a slog destination tests read while the engine writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the log lines that contain s.
func (l *logBuffer) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// openLogged is open with a logger writing to the returned buffer.
func openLogged(t *testing.T, st hookrt.StoreConfig, d engine.DeliveryOptions, obs *hooktest.Observations, targets ...hook.Target) (*engine.Engine, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: d, ServerID: "test", Targets: targets, Observer: obs.Observe,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	return e, logs
}

// dbDown fails every attempt as a receiver answering 500 would.
var dbDown = hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
	return hook.Result{Status: 500}, errors.New("HTTP 500: database is down")
})

func emitN(t *testing.T, e *engine.Engine, n int) {
	t.Helper()
	for range n {
		if _, err := e.Emit(context.Background(), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBreakerSaysSo: a breaker that opens is logged once (target, cause,
// until) however many attempts failed, the deliveries it holds say so,
// and the target's detail names the transition and its cause.
func TestBreakerSaysSo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		d := fast()
		d.BreakerThreshold, d.BreakerCooldown = 1, time.Hour
		d.Schedule, d.MaxAge = []time.Duration{time.Hour}, 100*time.Hour // open for an hour: the test reads it at leisure
		obs := hooktest.NewObservations()
		e, logs := openLogged(t, st, d, obs, hook.Target{Name: "down", Handler: dbDown})
		ctx := context.Background()
		emitN(t, e, 1)
		obs.Wait(t, "the first attempt failed", func(o []hook.Observation) bool { return hooktest.Count(o, "retrying", "down") == 1 })
		emitN(t, e, 2) // held by the open breaker: no attempt
		ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{Target: "down"})
		if err != nil || len(ds) != 3 {
			t.Fatalf("deliveries: %v, %v", ds, err)
		}
		for _, d := range ds {
			if !strings.HasPrefix(d.Held, "held: breaker open until ") || !strings.HasSuffix(d.Held, " UTC") {
				t.Errorf("delivery %d (%s): held %q, want the open breaker named", d.ID, d.State, d.Held)
			}
		}
		if one, err := e.Delivery(ctx, ds[0].ID); err != nil || one.Held != ds[0].Held {
			t.Errorf("one delivery: held %q, %v; want %q as in the list", one.Held, err, ds[0].Held)
		}
		opened := logs.lines("breaker opened")
		if len(opened) != 1 || !strings.Contains(opened[0], "target=down") ||
			!strings.Contains(opened[0], `cause="HTTP 500: database is down"`) || !strings.Contains(opened[0], "until=") {
			t.Errorf("breaker log lines: %q; want one naming target, cause and until", opened)
		}
		ts, err := e.TargetStatuses(ctx)
		if err != nil || len(ts) != 1 {
			t.Fatalf("targets: %v, %v", ts, err)
		}
		if got := ts[0].BreakerChange; !strings.HasPrefix(got, "opened ") ||
			!strings.Contains(got, ": HTTP 500: database is down (open until ") {
			t.Errorf("breaker change %q", got)
		}
		if s, err := e.Snapshot(ctx); err != nil || !s.BreakerOpen["down"] || s.BreakersOpen != 1 {
			t.Errorf("metrics snapshot: %+v, %v; want the breaker of down open", s.BreakerOpen, err)
		}
	})
}

// TestHeldByTargetState: the deliveries of a paused or disabled target say
// so, with who did it and why; delivered ones say nothing.
func TestHeldByTargetState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		obs := hooktest.NewObservations()
		ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
		e := open(t, st, fast(), obs, hook.Target{Name: "t", Handler: dbDown}, hook.Target{Name: "ok", Handler: ok})
		ctx := context.Background()
		if err := e.PauseTarget(ctx, "t", "maintenance"); err != nil {
			t.Fatal(err)
		}
		emitN(t, e, 1)
		obs.Wait(t, "the other target's delivery delivered", func(o []hook.Observation) bool {
			return hooktest.Count(o, hook.StateDelivered, "ok") == 1
		})
		held := func(target string) string {
			t.Helper()
			ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{Target: target})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries of %s: %v, %v", target, ds, err)
			}
			return ds[0].Held
		}
		if h := held("t"); h != "held: target paused by operator: maintenance" {
			t.Errorf("held %q", h)
		}
		if err := e.DisableTarget(ctx, "t", "receiver retired", "operator"); err != nil {
			t.Fatal(err)
		}
		if h := held("t"); h != "held: target disabled by operator: receiver retired" {
			t.Errorf("held %q", h)
		}
		if h := held("ok"); h != "" {
			t.Errorf("a delivered delivery is held: %q", h)
		}
	})
}

// TestDeadLetterKeepsCause: a dead letter keeps its last attempt's error
// and says why hookd gave up, also when it ages past max_age between
// attempts (the old text replaced the error); the target's last error
// stays the attempt's, also after a dead letter that was never attempted.
func TestDeadLetterKeepsCause(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		d := fast()
		d.Schedule, d.MaxAge = []time.Duration{time.Hour}, 2*time.Second
		obs := hooktest.NewObservations()
		to := func(name string) func(*hook.Event) bool {
			return func(ev *hook.Event) bool { return ev.Get("TO") == name }
		}
		e := open(t, st, d, obs, hook.Target{Name: "down", Handler: dbDown, Match: to("")},
			hook.Target{Name: "paused", Handler: dbDown, Match: to("paused")},
			// retried after 1s, before max_age: paused meanwhile, it ages past it
			hook.Target{Name: "aged", Handler: dbDown, Match: to("aged"), Policy: hook.Policy{Schedule: []time.Duration{time.Second}}})
		ctx := context.Background()
		status := func(name string) hook.TargetStatus {
			ts, err := e.TargetStatuses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ts {
				if s.Name == name {
					return s
				}
			}
			t.Fatalf("no target %s in %+v", name, ts)
			return hook.TargetStatus{}
		}
		emitTo := func(name string) time.Time {
			at := time.Now()
			if _, err := e.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "TO": name}); err != nil {
				t.Fatal(err)
			}
			return at
		}
		lastReason := func(o []hook.Observation, target string) string {
			for i := len(o) - 1; i >= 0; i-- {
				if o[i].Target == target && o[i].State == hook.StateDead {
					return o[i].Reason
				}
			}
			return ""
		}

		// The next attempt would pass max_age: dead after the attempt.
		emitN(t, e, 1)
		seen := obs.Wait(t, "dead after one attempt", func(o []hook.Observation) bool { return hooktest.Count(o, "dead", "down") == 1 })
		want := "HTTP 500: database is down — gave up: next attempt would pass the maximum age 2s"
		if got := lastReason(seen, "down"); got != want {
			t.Errorf("dead because %q, want %q", got, want)
		}
		ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDead, Target: "down"})
		if err != nil || len(ds) != 1 || ds[0].LastError != want {
			t.Errorf("dead letters %+v, %v", ds, err)
		}
		if s := status("down"); s.LastError != "HTTP 500: database is down" {
			t.Errorf("target's last error %q, want the attempt's", s.LastError)
		}

		// Aged past max_age while paused: after a failed attempt, and
		// never attempted.
		if err := e.PauseTarget(ctx, "paused", "maintenance"); err != nil {
			t.Fatal(err)
		}
		emitted := emitTo("paused")
		emitTo("aged")
		obs.Wait(t, "aged's first attempt failed", func(o []hook.Observation) bool { return hooktest.Count(o, "retrying", "aged") == 1 })
		if err := e.PauseTarget(ctx, "aged", "maintenance"); err != nil {
			t.Fatal(err)
		}
		for time.Since(emitted) <= d.MaxAge+100*time.Millisecond { // waiting for both events to age past max_age
			time.Sleep(50 * time.Millisecond)
		}
		for _, name := range []string{"paused", "aged"} {
			if err := e.EnableTarget(ctx, name, true); err != nil {
				t.Fatal(err)
			}
		}
		seen = obs.Wait(t, "both dead once resumed", func(o []hook.Observation) bool {
			return hooktest.Count(o, "dead", "paused") == 1 && hooktest.Count(o, "dead", "aged") == 1
		})
		if got := lastReason(seen, "aged"); got != "HTTP 500: database is down — gave up: older than the maximum age 2s" {
			t.Errorf("aged between attempts: dead because %q", got)
		}
		if got := lastReason(seen, "paused"); got != "gave up: older than the maximum age 2s, never attempted" {
			t.Errorf("never attempted: dead because %q", got)
		}
		if s := status("aged"); s.LastError != "HTTP 500: database is down" {
			t.Errorf("aged target's last error %q, want the attempt's", s.LastError)
		}
		if s := status("paused"); s.LastError != "" {
			t.Errorf("a never attempted dead letter made the target's last error %q", s.LastError)
		}
	})
}

// TestReplayRefused: replaying into a disabled or paused target is refused
// before anything is requeued, naming the target's state, unless forced.
func TestReplayRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		d := fast()
		d.MaxAge = 0
		obs := hooktest.NewObservations()
		perm := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
			return hook.Result{Status: 400}, hook.Permanent(errors.New("HTTP 400"))
		})
		e := open(t, st, d, obs, hook.Target{Name: "t", Handler: perm})
		ctx := context.Background()
		emitN(t, e, 2)
		obs.Wait(t, "two dead", func(o []hook.Observation) bool { return hooktest.Count(o, "dead", "t") == 2 })
		dead := func() []hook.Delivery {
			ds, err := e.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDead})
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		if err := e.DisableTarget(ctx, "t", "receiver retired", "operator"); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"t", ""} {
			n, err := e.RetryMatching(ctx, hook.StateDead, target, time.Time{}, 0, false)
			if !errors.Is(err, hook.ErrConflict) || n != 0 || !strings.Contains(err.Error(),
				"target t is disabled by operator (receiver retired): its replayed deliveries would go straight back to dead") {
				t.Errorf("replay of %q into a disabled target: %d, %v", target, n, err)
			}
		}
		id := dead()[0].ID
		if err := e.Retry(ctx, id, false); !errors.Is(err, hook.ErrConflict) || !strings.Contains(err.Error(), "disabled") {
			t.Errorf("single replay into a disabled target: %v", err)
		}
		if got := len(dead()); got != 2 {
			t.Fatalf("%d dead after refused replays, want 2 (nothing requeued)", got)
		}
		if err := e.PauseTarget(ctx, "t", "maintenance"); err != nil {
			t.Fatal(err)
		}
		if err := e.Retry(ctx, id, false); !errors.Is(err, hook.ErrConflict) ||
			!strings.Contains(err.Error(), "target t is paused by operator (maintenance): its replayed deliveries would wait until it is resumed") {
			t.Errorf("single replay into a paused target: %v", err)
		}
		if n, err := e.RetryMatching(ctx, hook.StateDead, "t", time.Time{}, 0, true); err != nil || n != 2 {
			t.Errorf("forced replay: %d, %v; want 2", n, err)
		}
	})
}

package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// testConfig returns a config on st with a fast retry schedule, so that
// retries happen within a test's patience.
func testConfig(st hookrt.StoreConfig) *hookrt.Config {
	cfg := hookrt.DefaultConfig()
	cfg.Store = st
	cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(20 * time.Millisecond)}
	cfg.Delivery.Jitter = 0
	cfg.Delivery.Timeout = hook.Duration(2 * time.Second)
	cfg.Delivery.PollInterval = hook.Duration(20 * time.Millisecond)
	cfg.Delivery.BreakerThreshold = 1000
	return cfg
}

// newObservations, count: thin names over hooktest for these tests.
func newObservations() *observations { return &observations{hooktest.NewObservations()} }

type observations struct{ *hooktest.Observations }

func (o *observations) observe(ctx context.Context, ob hook.Observation) { o.Observe(ctx, ob) }

func (o *observations) wait(t *testing.T, what string, cond func([]hook.Observation) bool) []hook.Observation {
	t.Helper()
	return o.Wait(t, what, cond)
}

func count(state hook.DeliveryState, target string) func([]hook.Observation) int {
	return func(obs []hook.Observation) int { return hooktest.Count(obs, state, target) }
}

func open(t testing.TB, cfg *hookrt.Config, opts ...hookrt.Option) *hookrt.Runtime {
	t.Helper()
	rt, err := hookrt.Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rt
}

func userCreate(i int) map[string]string {
	return map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "7", "USERNAME": fmt.Sprint("user", i)}
}

func TestDeliverRetryAndDead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		obs := newObservations()
		var mu sync.Mutex
		calls := map[string]int{}
		flaky := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[ev.ID]++
			if calls[ev.ID] < 3 {
				return hook.Result{Status: 503}, errors.New("HTTP 503")
			}
			return hook.Result{Status: 200, Reply: []byte("ok")}, nil
		})
		permanent := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			return hook.Result{}, hook.Permanent(errors.New("no such user"))
		})
		bounded := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			return hook.Result{}, errors.New("down")
		})
		onlyNew := func(ev *hook.Event) bool { return ev.Name() == "NEWSESSION" }
		rt := open(t, testConfig(st), hookrt.WithObserver(obs.observe),
			hookrt.WithTarget(hook.Target{Name: "flaky", Handler: flaky}),
			hookrt.WithTarget(hook.Target{Name: "permanent", Handler: permanent}),
			hookrt.WithTarget(hook.Target{Name: "bounded", Handler: bounded, Policy: hook.Policy{MaxAttempts: 3}}),
			hookrt.WithTarget(hook.Target{Name: "sessions", Handler: flaky, Match: onlyNew}),
		)
		ctx := context.Background()
		id, err := rt.Emit(ctx, userCreate(1))
		if err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "flaky delivered, permanent and bounded dead", func(o []hook.Observation) bool {
			return count("delivered", "flaky")(o) == 1 && count("dead", "permanent")(o) == 1 && count("dead", "bounded")(o) == 1
		})
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 3 {
			t.Fatalf("want 3 deliveries (sessions does not match USER_CREATE), got %d: %+v", len(ds), ds)
		}
		if byEvent, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{EventID: id}); err != nil || len(byEvent) != 3 {
			t.Errorf("deliveries of event %s: %d, %v; want 3", id, len(byEvent), err)
		}
		if none, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{EventID: "no-such-event"}); err != nil || len(none) != 0 {
			t.Errorf("deliveries of an unknown event: %d, %v; want none", len(none), err)
		}
		for _, d := range ds {
			full, err := rt.Delivery(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if full.Event["EVENT_ID"] != id || full.Event["USERNAME"] != "user1" {
				t.Errorf("%s: event fields %v", d.Target, full.Event)
			}
			want := map[string]struct {
				state    hook.DeliveryState
				attempts int
			}{"flaky": {"delivered", 3}, "permanent": {"dead", 1}, "bounded": {"dead", 3}}[d.Target]
			if full.State != want.state || full.Attempts != want.attempts || len(full.History) != want.attempts {
				t.Errorf("%s: state %s attempts %d history %d; want %s %d", d.Target, full.State, full.Attempts, len(full.History), want.state, want.attempts)
			}
		}
		// Replay the permanently failed one: it gets a new attempt.
		var dead int64
		for _, d := range ds {
			if d.Target == "permanent" {
				dead = d.ID
			}
		}
		if err := rt.Retry(ctx, dead); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "replayed delivery attempted", func(o []hook.Observation) bool { return count("dead", "permanent")(o) == 2 })
		// Delivered ones cannot be replayed or discarded.
		for _, d := range ds {
			if d.Target == "flaky" {
				if err := rt.Retry(ctx, d.ID); !errors.Is(err, hook.ErrConflict) {
					t.Errorf("retry delivered: %v", err)
				}
				if err := rt.Discard(ctx, d.ID); !errors.Is(err, hook.ErrConflict) {
					t.Errorf("discard delivered: %v", err)
				}
			}
		}
		if err := rt.Retry(ctx, 999999); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("retry missing: %v", err)
		}
	})
}

func TestEmitValidation(t *testing.T) {
	rt := open(t, testConfig(storetest.SQLite(t)), hookrt.WithoutWorkers())
	ctx := context.Background()
	for _, tc := range []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{"EVENT": "X"}, `missing required field "MODULE"`},
		{map[string]string{"MODULE": "X"}, `missing required field "EVENT"`},
		{map[string]string{"MODULE": "X", "EVENT": "Y", "TIMESTAMP": "soon"}, `field "TIMESTAMP": must be a unix time in seconds, got "soon"`},
		{map[string]string{"MODULE": "X", "EVENT": "Y", "EVENT_ID": "1"}, `field "EVENT_ID": must not be sent, hookd assigns it`},
		{map[string]string{"MODULE": "X", "EVENT": "Y", "NICK": "a\x00b"}, `field "NICK": value contains a NUL byte`},
		{map[string]string{"MODULE": "X", "EVENT": "Y", "A B": "c"}, `field name "A B": only printable ASCII without spaces is allowed`},
		{map[string]string{"MODULE": "X", "EVENT": "Y", "BIG": strings.Repeat("x", hook.MaxEventBytes)},
			"fields total * bytes with the ones hookd adds; at most 65536 (64 KiB) are allowed"},
	} {
		_, err := rt.Emit(ctx, tc.fields)
		if err == nil || !errors.Is(err, hook.ErrInvalidEvent) || !matches(tc.want, err.Error()) {
			t.Errorf("Emit(%v) = %v; want %q", slices.Sorted(maps.Keys(tc.fields)), err, tc.want)
		}
	}
}

func TestEmitAfterClose(t *testing.T) {
	rt, err := hookrt.Open(context.Background(), testConfig(storetest.SQLite(t)), hookrt.WithoutWorkers())
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Emit(context.Background(), userCreate(1)); !errors.Is(err, hook.ErrClosed) {
		t.Fatalf("Emit after Close: %v", err)
	}
}

// matches reports whether s is pattern, where one "*" in pattern stands
// for any run of characters.
func matches(pattern, s string) bool {
	before, after, found := strings.Cut(pattern, "*")
	if !found {
		return s == pattern
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

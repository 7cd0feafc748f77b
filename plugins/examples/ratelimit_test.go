package examples_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
	hookrt "github.com/hookrt/hookd/runtime"
)

const rateLimit = "github.com/hookrt/hookd/plugins/examples/rate-limit"

// rateGrants grants state over st to domain "acme", and the config cfg.
func rateGrants(t *testing.T, st hook.StateStore, cfg string) hostfn.Grants {
	t.Helper()
	s, err := hostfn.NewState(st, "acme", hook.StateLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return hostfn.Grants{Config: json.RawMessage(cfg), State: s}
}

const rateConfig = `{"limit": 3, "window": "1h", "secret": "s3cret"}`

// session is a NEWSESSION event of session id.
func session(id string) *hook.Event {
	return plugintest.Event(map[string]string{"SESSIONID": id})
}

// wantDrop checks that out drops session id with the message box.
func wantDrop(t *testing.T, out wasmhost.Outcome, err error, id string) {
	t.Helper()
	if err != nil || out.Status != 0 {
		t.Fatalf("session %s: status %d, %v (%s); logs %v", id, out.Status, err, out.Error, out.Logs)
	}
	r, perr := xmlmsg.Parse(out.Reply)
	if perr != nil {
		t.Fatalf("session %s: reply %s: %v", id, out.Reply, perr)
	}
	if r.Secret != "s3cret" || len(r.Commands) != 2 || r.Commands[0].Kind != xmlmsg.KindMsgbox || r.Commands[0].Session != id ||
		!strings.Contains(r.Commands[0].Message, "Too many sessions") || r.Commands[1] != (xmlmsg.Command{Session: id, Kind: xmlmsg.KindDrop}) {
		t.Errorf("session %s: reply %s, want a message box and a drop", id, out.Reply)
	}
}

// wantPass checks that out lets the event through (<nomessage/>).
func wantPass(t *testing.T, out wasmhost.Outcome, err error, what string) {
	t.Helper()
	if err != nil || out.Status != 0 || out.Reply != nil {
		t.Fatalf("%s: status %d, %v (%s), reply %q, want <nomessage/>; logs %v", what, out.Status, err, out.Error, out.Reply, out.Logs)
	}
}

// TestRateLimitSurvives: the count is the host's, not the instance's: it
// goes on across an instance discarded after a failed call, and across a
// restart of the host (a new engine, a new connection to the same store),
// on SQLite and PostgreSQL.
func TestRateLimitSurvives(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		wasm := plugintest.Build(t, rateLimit)
		ctx := context.Background()
		db := storetest.Open(t, st)

		// One instance, whose replies may not be longer than 64 bytes: a
		// drop (a message box and a drop, about 200 bytes) is refused,
		// which fails the call and discards the instance (ABI.md).
		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1, MaxReply: 64}, rateGrants(t, store.PluginState{DB: db}, rateConfig))
		for i := 1; i <= 3; i++ {
			out, err := p.Call(ctx, session(fmt.Sprint("s", i)))
			wantPass(t, out, err, fmt.Sprint("event ", i))
		}
		for i := 4; i <= 5; i++ {
			out, err := p.Call(ctx, session(fmt.Sprint("s", i)))
			if !errors.Is(err, wasmhost.ErrReplyTooLarge) {
				t.Fatalf("event %d: %v, want the reply refused (and the instance discarded); logs %v", i, err, out.Logs)
			}
			// The fifth runs on a fresh instance, whose package variables
			// start from zero: the count came from the store.
			if !hasLog(out, hostapi.LevelInfo, fmt.Sprintf("dropping session s%d: event %d of the window, over the limit of 3 per 1h0m0s", i, i)) {
				t.Errorf("event %d: logs %v", i, out.Logs)
			}
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		// A restart: a new engine and a new connection to the same store.
		db = storetest.Open(t, st)
		e, err := wasmhost.NewEngine(ctx, wasmhost.Options{CacheDir: plugintest.CacheDir(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		p, err = e.Load(ctx, wasm, wasmhost.Limits{Instances: 1, Timeout: plugintest.Timeout},
			rateGrants(t, store.PluginState{DB: db}, rateConfig))
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Call(ctx, session("s6"))
		wantDrop(t, out, err, "s6")
		if !hasLog(out, hostapi.LevelInfo, "event 6 of the window") {
			t.Errorf("logs %v", out.Logs)
		}
		// Another domain has a count of its own.
		other, err := hostfn.NewState(store.PluginState{DB: db}, "other", hook.StateLimits{})
		if err != nil {
			t.Fatal(err)
		}
		q, err := e.Load(ctx, wasm, wasmhost.Limits{Instances: 1, Timeout: plugintest.Timeout},
			hostfn.Grants{Config: json.RawMessage(rateConfig), State: other})
		if err != nil {
			t.Fatal(err)
		}
		out, err = q.Call(ctx, session("o1"))
		wantPass(t, out, err, "another domain's first event")
	})
}

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRateLimitWindow: a window opens with its first counted event and
// closes a window later; other events are not counted; "-" sends no
// message; an event without SESSIONID is counted but has nothing to drop.
func TestRateLimitWindow(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	p := load(t, rateLimit, rateGrants(t, store.NewMemoryStateAt(clk.Now),
		`{"limit": 2, "window": "10s", "events": ["NEW SESSION", "START"], "secret": "s3cret", "message": "-"}`))
	ctx := context.Background()
	call := func(ev *hook.Event) (wasmhost.Outcome, error) { return p.Call(ctx, ev) }

	out, err := call(session("a"))
	wantPass(t, out, err, "1st")
	clk.Add(9 * time.Second)
	out, err = call(plugintest.Event(map[string]string{"EVENT": "STOP"}))
	wantPass(t, out, err, "an event not counted")
	out, err = call(plugintest.Event(map[string]string{"EVENT": "START"}))
	wantPass(t, out, err, "2nd")
	out, err = call(session("c"))
	if r, perr := xmlmsg.Parse(out.Reply); err != nil || perr != nil || len(r.Commands) != 1 ||
		r.Commands[0] != (xmlmsg.Command{Session: "c", Kind: xmlmsg.KindDrop}) {
		t.Errorf("3rd: %v, reply %s, want a drop alone", err, out.Reply)
	}
	ev := session("")
	delete(ev.Fields, "SESSIONID")
	out, err = call(ev)
	wantPass(t, out, err, "4th, without SESSIONID")
	if !hasLog(out, hostapi.LevelWarn, "event 4 of the window, over the limit of 2 per 10s, but the event has no SESSIONID") {
		t.Errorf("logs %v", out.Logs)
	}
	clk.Add(time.Second) // the window of the first event closes
	out, err = call(session("d"))
	wantPass(t, out, err, "1st of a new window")
}

// TestRateLimitConfig: a config it cannot use fails every call for good,
// naming what is wrong; so does a plugin not granted state.
func TestRateLimitConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg     string
		noState bool
		want    string
	}{
		{`{"window": "1m", "secret": "s"}`, false, `rate-limit: invalid config: "limit" (events let through per window) must be at least 1, got 0`},
		{`{"limit": 1, "window": "1ms", "secret": "s"}`, false, `"window" must be a duration from "1s" to "720h", got "1ms"`},
		{`{"limit": 1, "window": "31d", "secret": "s"}`, false, `got "31d"`},
		{`{"limit": 1, "events": [], "secret": "s"}`, false, `"events" must name at least one EVENT`},
		{`{"limit": 1}`, false, `"secret" (the proxy's XMLMSG database secret) is missing`},
		{`{"limit": 1, "secret": "s", "per": "USER"}`, false, `rate-limit: invalid config: pdk: config: unknown field "per"`},
		{`{"limit": "ten", "secret": "s"}`, false, `rate-limit: invalid config: pdk: config: limit`},
		{`{"limit": 0, "window": "x", "secret": "s"}`, false, `must be at least 1, got 0; "window" must be`},
		{`{"limit": 1, "window": "1m", "secret": "s"}`, true, `rate-limit: the plugin has no state: set state = true in its [domain.plugin]`},
	} {
		g := rateGrants(t, store.NewMemoryState(), tc.cfg)
		if tc.noState {
			g.State = nil
		}
		p := load(t, rateLimit, g)
		out, err := p.Call(context.Background(), session("s"))
		if err != nil || out.Status != hostapi.StatusFail || !strings.Contains(out.Error, tc.want) {
			t.Errorf("config %s: status %d, %v, error %q; want 2 and %q", tc.cfg, out.Status, err, out.Error, tc.want)
		}
	}
}

// TestRateLimitRuntime: the plugin in a runtime, as hookd serve runs it
// with state = true: over the limit, the command sink gets a drop; the
// count goes on after the runtime is closed and opened again on the same
// store.
func TestRateLimitRuntime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		wasm := plugintest.Build(t, rateLimit)
		doc := fmt.Sprintf(`
[delivery]
retry_schedule = ["50ms"]
jitter = 0
timeout = "1m"
poll_interval = "20ms"
[http_events]
per_domain = true
per_domain_strict = true
[plugins]
cache_dir = %q
reload_interval = 0
[[domain]]
id = "acme"
script = %q
[domain.plugin]
timeout = "1m"
state = true
state_max_keys = 10
[domain.config]
limit = 3
window = "1h"
secret = "s3cret"
`, plugintest.CacheDir(t), wasm)
		cfg, err := hookrt.ParseConfig([]byte(doc), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Store = st
		drops := make(chan string, 8)
		sink := hook.HandlerFunc(func(_ context.Context, ev *hook.Event) (hook.Result, error) {
			drops <- ev.Get(hook.CommandFieldXML)
			return hook.Result{}, nil
		})
		run := func(sessions ...string) {
			t.Helper()
			ctx := context.Background()
			obs := hooktest.NewObservations()
			rt, err := hookrt.Open(ctx, cfg, hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(sink))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(ctx, hooktest.Patience)
				defer cancel()
				if err := rt.Close(ctx); err != nil {
					t.Error(err)
				}
			}()
			for _, s := range sessions {
				if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "acme", "SESSIONID": s}); err != nil {
					t.Fatal(err)
				}
			}
			obs.Wait(t, "every event delivered, and one drop forwarded", func(o []hook.Observation) bool {
				return hooktest.Count(o, hook.StateDelivered, httpevents.DomainTargetPrefix+"acme") == len(sessions) &&
					hooktest.Count(o, hook.StateDelivered, hook.CommandsTarget) == 1
			})
		}
		// Four sessions at once: whichever is counted fourth is dropped.
		run("s1", "s2", "s3", "s4")
		first := <-drops
		if !strings.Contains(first, "<drop/>") || !strings.Contains(first, "Too many sessions") {
			t.Errorf("forwarded %s, want a message box and a drop", first)
		}
		// A restart on the same store: the fifth session is over the limit.
		run("s5")
		if got := <-drops; !strings.Contains(got, `<session id="s5">`) || !strings.Contains(got, "<drop/>") {
			t.Errorf("after the restart, forwarded %s, want s5 dropped", got)
		}
		select {
		case extra := <-drops:
			t.Errorf("a drop too many: %s", extra)
		default:
		}
	})
}

package httpevents_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestSessionRecords: with save_to_session on, a session's events are kept
// in order with each target's outcome; off, nothing is indexed.
func TestSessionRecords(t *testing.T) {
	t.Parallel()
	for _, c := range []storetest.Case{{Name: "sqlite", Store: teststore.SQLite}, {Name: "postgres", Store: storetest.Postgres}} {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/save_to_session=%v", c.Name, on), func(t *testing.T) {
				t.Parallel()
				st := c.Store(t)
				global := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
				d1 := hooktest.NewReceiver(t, hooktest.Status(200, dropFor("s-1")))
				obs := hooktest.NewObservations()
				rt := start(t, st, fmt.Sprintf(`
[http_events]
global = true
global_server = %q
global_strict = true
per_domain = true
per_domain_strict = true
save_to_session = %v
allow_private = ["127.0.0.0/8"]
[[domain]]
id = "1"
script = %q
`, hostPort(global), on, d1.URL), hookrt.WithObserver(obs.Observe))
				ctx := context.Background()
				for _, name := range []string{"NEW SESSION", "START", "STOP"} {
					if _, err := rt.Emit(ctx, event("1", name, "SESSIONID", "s-1")); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := rt.Emit(ctx, event("1", "START", "SESSIONID", "other")); err != nil {
					t.Fatal(err)
				}
				obs.Wait(t, "all delivered", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "") == 8 })
				evs, err := rt.SessionEvents(ctx, "s-1")
				if err != nil {
					t.Fatal(err)
				}
				if !on {
					if len(evs) != 0 {
						t.Fatalf("save_to_session off, yet %d events recorded", len(evs))
					}
					return
				}
				if len(evs) != 3 {
					t.Fatalf("session s-1 has %d events, want 3: %+v", len(evs), evs)
				}
				// The record keeps the fields as received: "NEW SESSION", not
				// hookd's canonical NEWSESSION.
				for i, name := range []string{"NEW SESSION", "START", "STOP"} {
					ev := evs[i]
					if ev.Fields["EVENT"] != name || len(ev.Targets) != 2 {
						t.Fatalf("event %d: %s with %d targets", i, ev.Fields["EVENT"], len(ev.Targets))
					}
					for _, o := range ev.Targets {
						want := map[string]string{"http_events.global": "nomessage", "http_events.domain.1": "xmlmsg: drop s-1"}[o.Target]
						if o.State != "delivered" || o.Status != 200 || o.Summary != want {
							t.Errorf("event %d at %s: %+v (want summary %q)", i, o.Target, o, want)
						}
					}
				}
			})
		}
	}
}

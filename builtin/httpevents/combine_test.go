package httpevents_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	hookrt "github.com/hookrt/hookd/runtime"
)

func combinedConfig(r *hooktest.Receiver, interval string) string {
	return fmt.Sprintf(`
[http_events]
global = true
global_server = %q
global_path = "/combined"
global_strict = true
combine_interval = %q
`, hostPort(r), interval)
}

// batchUsers returns the USERNAMEs of a combined request, by index.
func batchUsers(t *testing.T, body []byte) []string {
	f := form(t, body)
	n, err := strconv.Atoi(f.Get("COUNT"))
	if err != nil {
		t.Fatalf("COUNT %q", f.Get("COUNT"))
	}
	var users []string
	for i := range n {
		users = append(users, f.Get(fmt.Sprintf("USERNAME_%d", i)))
		if f.Get(fmt.Sprintf("EVENT_ID_%d", i)) == "" {
			t.Errorf("event %d has no EVENT_ID", i)
		}
	}
	return users
}

func users(from, to int) []map[string]string {
	var evs []map[string]string
	for i := from; i < to; i++ {
		evs = append(evs, event("1", "START", "USERNAME", fmt.Sprint("u", i)))
	}
	return evs
}

// TestCombining: the events of one interval reach the script as one
// request, in order; a failed request is retried with what arrived since;
// pending events survive a restart.
func TestCombining(t *testing.T) {
	t.Parallel()
	r := hooktest.NewReceiver(t, hooktest.Status(500, "down"))
	st := hookrt.StoreConfig{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "hookd.db")}
	ctx := context.Background()
	obs := hooktest.NewObservations()
	rt := start(t, st, combinedConfig(r, "2s"), hookrt.WithObserver(obs.Observe))
	if _, err := rt.EmitMany(ctx, users(0, 5)); err != nil {
		t.Fatal(err)
	}
	first := r.WaitRequests(t, 1)[0]
	if got := fmt.Sprint(batchUsers(t, first.Body)); got != "[u0 u1 u2 u3 u4]" {
		t.Fatalf("first combined request carries %s", got)
	}
	if first.Header.Get("X-Hookd-Batch") != "5" {
		t.Errorf("X-Hookd-Batch %q", first.Header.Get("X-Hookd-Batch"))
	}
	// While it fails, more events arrive; the retry carries all, in order.
	if _, err := rt.EmitMany(ctx, users(5, 7)); err != nil {
		t.Fatal(err)
	}
	r.Set(hooktest.Status(200, nomessage))
	obs.Wait(t, "seven delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", httpevents.GlobalTarget) == 7
	})
	reqs := r.Requests()
	last := reqs[len(reqs)-1]
	if got := fmt.Sprint(batchUsers(t, last.Body)); got != "[u0 u1 u2 u3 u4 u5 u6]" {
		t.Fatalf("acknowledged request carries %s", got)
	}
	n := len(reqs)

	// Stop before the interval ends (2 s: ample even on a loaded machine):
	// the events wait in the store.
	if _, err := rt.EmitMany(ctx, users(7, 10)); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(r.Requests()); got != n {
		t.Fatalf("%d requests were sent before the interval ended", got-n)
	}
	start(t, st, combinedConfig(r, "2s"))
	after := r.WaitRequests(t, n+1)[n]
	if got := fmt.Sprint(batchUsers(t, after.Body)); got != "[u7 u8 u9]" {
		t.Fatalf("after the restart: %s", got)
	}
}

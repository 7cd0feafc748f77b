package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestRetriesOnSchedule: with a 1 s schedule and the default jitter and
// poll interval, 50 deliveries that fail once are each retried within
// jitter + poll_interval + 50 ms of the due time recorded with their
// failure. The first retry of a delivery attempted on the direct path is a
// River job inserted for later, which River's scheduler released only
// every 5 s: up to 5 s late. Two waves, the second emitted once the first
// is delivered, so that no phase of a 5 s scheduler can serve both.
func TestRetriesOnSchedule(t *testing.T) {
	storetest.Run(t, testRetriesOnSchedule)
}

func testRetriesOnSchedule(t *testing.T, st hookrt.StoreConfig) {
	const n = 50
	d := fast()
	d.Schedule = []time.Duration{time.Second}
	d.Jitter = 0.2                         // the default
	d.PollInterval = 50 * time.Millisecond // the default
	d.Workers = 2 * n                      // every first attempt may take the direct path (a target gets half)
	bound := time.Duration(d.Jitter*float64(time.Second)) + d.PollInterval + 50*time.Millisecond

	var (
		mu     sync.Mutex
		starts = map[string][]time.Time{} // by event ID: when each attempt started
	)
	once := hook.HandlerFunc(func(_ context.Context, ev *hook.Event) (hook.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		starts[ev.ID] = append(starts[ev.ID], time.Now())
		if len(starts[ev.ID]) == 1 {
			return hook.Result{Status: 503}, errors.New("HTTP 503: once")
		}
		return hook.Result{}, nil
	})
	obs := hooktest.NewObservations()
	e := open(t, st, d, obs, hook.Target{Name: "once", Handler: once})
	batch := make([]map[string]string, n)
	for i := range batch {
		batch[i] = map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}
	}
	var seen []hook.Observation
	for wave := 1; wave <= 2; wave++ {
		if _, err := e.EmitMany(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		seen = obs.Wait(t, "every delivery retried and delivered", func(o []hook.Observation) bool {
			return hooktest.Count(o, hook.StateDelivered, "once") == wave*n
		})
	}

	mu.Lock()
	defer mu.Unlock()
	var (
		worst time.Duration
		lates []time.Duration
	)
	retried := 0
	for _, o := range seen {
		if o.State != hook.StateRetrying {
			continue
		}
		s := starts[o.EventID]
		if len(s) < 2 {
			t.Fatalf("delivery %d: %d attempts recorded, want 2", o.DeliveryID, len(s))
		}
		late := s[1].Sub(o.Next)
		if late < -5*time.Millisecond {
			t.Errorf("delivery %d retried %s before its due time %s", o.DeliveryID, -late, o.Next.Format(time.StampMilli))
		}
		worst = max(worst, late)
		lates = append(lates, late)
		retried++
	}
	if retried != 2*n {
		t.Fatalf("%d deliveries failed once, want %d", retried, 2*n)
	}
	slices.Sort(lates)
	t.Logf("lateness of %d first retries: median %s, 90%% %s, worst %s (bound %s)",
		retried, lates[len(lates)/2], lates[len(lates)*9/10], worst, bound)
	if worst > bound {
		t.Errorf("a retry started %s after its due time; want at most jitter + poll_interval + 50ms = %s", worst, bound)
	}
}

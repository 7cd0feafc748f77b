package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestRetriesOnSchedule: with a 1 s schedule and the default jitter and
// poll interval, 50 deliveries that fail once are each retried within
// jitter + poll_interval (+ 700 ms for a loaded machine) of the due time
// recorded with their failure. The first retry of a delivery attempted on the direct path is a
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
	// On time means within jitter + poll_interval of the due time; what
	// the test must tell apart is that from River's 5 s scheduler (2.2 to
	// 4.1 s late over two waves before the retry clock). A loaded 2-core
	// machine adds CPU wait on top (366 ms seen at load 13 with -race), so
	// the bound leaves 700 ms for it; the real figures are logged
	// (docs/benchmarks.md keeps them).
	bound := time.Duration(d.Jitter*float64(time.Second)) + d.PollInterval + 700*time.Millisecond

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
	t.Logf("handlers started after their due time: median %s, 90%% %s, worst %s",
		lates[len(lates)/2], lates[len(lates)*9/10], worst)

	// A retry starts when River takes its job to work (attempted_at): that
	// is what the schedule governs, and what River's 5 s scheduler made
	// seconds late. From there to the handler is CPU (the fetch's rows,
	// the worker's goroutine, the -race detector), which a loaded machine
	// stretches by hundreds of milliseconds: logged above, not bounded.
	starts2 := jobStarts(t, e)
	if len(starts2) != 2*n {
		t.Fatalf("%d retry jobs worked, want %d", len(starts2), 2*n)
	}
	var jobLates []time.Duration
	for _, j := range starts2 {
		jobLates = append(jobLates, j.attempted.Sub(j.scheduled))
	}
	slices.Sort(jobLates)
	jobWorst := jobLates[len(jobLates)-1]
	t.Logf("retry jobs taken after their due time: median %s, 90%% %s, worst %s (bound %s)",
		jobLates[len(jobLates)/2], jobLates[len(jobLates)*9/10], jobWorst, bound)
	if jobWorst > bound {
		t.Errorf("a retry was taken %s after its due time; want at most jitter + poll_interval + 700ms = %s", jobWorst, bound)
	}
}

// jobStart is when a retry job was due and when River took it to work.
type jobStart struct{ scheduled, attempted time.Time }

// jobStarts reads every worked delivery job's due time and start.
func jobStarts(t *testing.T, e *engine.Engine) []jobStart {
	t.Helper()
	const q = `SELECT scheduled_at, attempted_at FROM river_job WHERE kind = 'hookd_delivery' AND attempted_at IS NOT NULL`
	var (
		rows interface {
			Next() bool
			Scan(dest ...any) error
			Err() error
		}
		err error
	)
	if pool := e.DB().Pool(); pool != nil {
		r, qerr := pool.Query(context.Background(), q)
		if qerr == nil {
			defer r.Close()
		}
		rows, err = r, qerr
	} else {
		r, qerr := e.DB().SQL().QueryContext(context.Background(), q)
		if qerr == nil {
			defer r.Close()
		}
		rows, err = r, qerr
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []jobStart
	for rows.Next() {
		var j jobStart
		if err := rows.Scan(&j.scheduled, &j.attempted); err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

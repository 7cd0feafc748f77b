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
// poll_interval (+ 700 ms for a loaded machine) of the due time recorded
// with their failure, which already includes the jitter. The first retry
// of a delivery attempted on the direct path is a River job inserted for
// later, which River's scheduler released only every 5 s: up to 5 s late.
// Two waves, the second emitted once the first is delivered, so that no
// phase of a 5 s scheduler can serve both.
func TestRetriesOnSchedule(t *testing.T) {
	storetest.Run(t, testRetriesOnSchedule)
}

func testRetriesOnSchedule(t *testing.T, st hookrt.StoreConfig) {
	d := retryOptions()
	// On time means within poll_interval of the due time; what the test
	// must tell apart is that from River's 5 s scheduler (2.2 to 4.1 s
	// late over two waves before the retry clock). A loaded 2-core
	// machine adds CPU wait on top (366 ms seen at load 13 with -race), so
	// the bound leaves 700 ms for it; the real figures are logged, and
	// BenchmarkRetryLateness measures them without -race.
	bound := d.PollInterval + 700*time.Millisecond
	l := measureRetries(t, st, d, 2, 50)
	t.Logf("handlers started after their due time: median %s, 90%% %s, worst %s",
		l.handler[len(l.handler)/2], l.handler[len(l.handler)*9/10], l.handler[len(l.handler)-1])

	// A retry starts when River takes its job to work (attempted_at): that
	// is what the schedule governs, and what River's 5 s scheduler made
	// seconds late. From there to the handler is CPU (the fetch's rows,
	// the worker's goroutine, the -race detector), which a loaded machine
	// stretches by hundreds of milliseconds: logged above, not bounded.
	jobWorst := l.job[len(l.job)-1]
	t.Logf("retry jobs taken after their due time: median %s, 90%% %s, worst %s (bound %s)",
		l.job[len(l.job)/2], l.job[len(l.job)*9/10], jobWorst, bound)
	if jobWorst > bound {
		t.Errorf("a retry was taken %s after its due time; want at most poll_interval + 700ms = %s", jobWorst, bound)
	}
}

// retryOptions are the delivery options of the retry timing tests: a 1 s
// schedule, and the default jitter and poll interval.
func retryOptions() engine.DeliveryOptions {
	d := fast()
	d.Schedule = []time.Duration{time.Second}
	d.Jitter = 0.2                         // the default
	d.PollInterval = 50 * time.Millisecond // the default
	return d
}

// lateness is how late first retries started after their due time, each
// sorted: the handler's call, and River's taking the job (attempted_at).
type lateness struct{ handler, job []time.Duration }

// measureRetries emits waves of n deliveries to a target that fails each
// one's first attempt and accepts its second, each wave once the one
// before is delivered, and returns how late the retries started. Every
// first attempt may take the direct path (the workers are set so), so
// every retry is a River job inserted for later: the case River's 5 s
// scheduler made late. A retry that starts before its due time fails tb.
func measureRetries(tb testing.TB, st hookrt.StoreConfig, d engine.DeliveryOptions, waves, n int) lateness {
	tb.Helper()
	d.Workers = 2 * n // a target gets half
	var (
		mu     sync.Mutex
		starts = map[string][]time.Time{} // by event ID: when each attempt started
	)
	once := hook.HandlerFunc(func(_ context.Context, ev *hook.Event) (hook.Result, error) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		starts[ev.ID] = append(starts[ev.ID], now)
		if len(starts[ev.ID]) == 1 {
			return hook.Result{Status: 503}, errors.New("HTTP 503: once")
		}
		return hook.Result{}, nil
	})
	obs := hooktest.NewObservations()
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: d,
		ServerID: "test",
		Targets:  []hook.Target{{Name: "once", Handler: once}},
		Observer: obs.Observe,
	})
	if err != nil {
		tb.Fatal(err)
	}
	closeAtEnd(tb, e)
	batch := make([]map[string]string, n)
	for i := range batch {
		batch[i] = map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}
	}
	var seen []hook.Observation
	for wave := 1; wave <= waves; wave++ {
		if _, err := e.EmitMany(context.Background(), batch); err != nil {
			tb.Fatal(err)
		}
		seen = obs.Wait(tb, "every delivery retried and delivered", func(o []hook.Observation) bool {
			return hooktest.Count(o, hook.StateDelivered, "once") == wave*n
		})
	}

	mu.Lock()
	defer mu.Unlock()
	var l lateness
	for _, o := range seen {
		if o.State != hook.StateRetrying {
			continue
		}
		s := starts[o.EventID]
		if len(s) < 2 {
			tb.Fatalf("delivery %d: %d attempts recorded, want 2", o.DeliveryID, len(s))
		}
		late := s[1].Sub(o.Next)
		if late < -5*time.Millisecond {
			tb.Errorf("delivery %d retried %s before its due time %s", o.DeliveryID, -late, o.Next.Format(time.StampMilli))
		}
		l.handler = append(l.handler, late)
	}
	if len(l.handler) != waves*n {
		tb.Fatalf("%d deliveries failed once, want %d", len(l.handler), waves*n)
	}
	for _, j := range jobStarts(tb, e) {
		l.job = append(l.job, j.attempted.Sub(j.scheduled))
	}
	if len(l.job) != waves*n {
		tb.Fatalf("%d retry jobs worked, want %d", len(l.job), waves*n)
	}
	slices.Sort(l.handler)
	slices.Sort(l.job)
	return l
}

// jobStart is when a retry job was due and when River took it to work.
type jobStart struct{ scheduled, attempted time.Time }

// jobStarts reads every worked delivery job's due time and start.
func jobStarts(tb testing.TB, e *engine.Engine) []jobStart {
	tb.Helper()
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
		tb.Fatal(err)
	}
	var out []jobStart
	for rows.Next() {
		var j jobStart
		if err := rows.Scan(&j.scheduled, &j.attempted); err != nil {
			tb.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

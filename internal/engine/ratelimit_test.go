package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The rate limit's tests count requests where a receiver sees them: at a
// loopback HTTP server, by arrival time. The limiter bounds the rate from
// above, whatever the machine's load: in any span T at most burst + rate·T
// requests go, so the count over a window after the first burst is held
// to the limit + 5 %. From below, a loaded machine may fall short of the
// limit for reasons that are not the limiter's (no CPU for the workers:
// CI's run under a CPU hog delivered 28/s); the always-on test asks only
// for a quarter of it (a limiter that divided wrongly would fall below),
// the minute-long one (testsupport.Long, on a quiet machine) for the
// limit − 5 %.

// TestRateLimitHolds: 50/s with a backlog of 10 s of deliveries: the
// receiver sees 50/s (at most +5 %, at least a quarter of it on a loaded
// machine), every delivery arrives after one attempt (none failed or was
// retried for the limit), and the waits are counted.
func TestRateLimitHolds(t *testing.T) { testRateLimitHolds(t, 10, 0.25) }

// TestRateLimitHoldsMinute is the done-when figure: 50/s within 5 % over
// a minute, both ways.
func TestRateLimitHoldsMinute(t *testing.T) {
	testsupport.Long(t, "a rate limit of 50/s over a minute")
	testRateLimitHolds(t, 60, 0.95)
}

func testRateLimitHolds(t *testing.T, seconds int, low float64) {
	const limit = 50
	rx := newArrivals(t)
	reg := newTestRegistry()
	obs := hooktest.NewObservations()
	e := openRated(t, storetest.SQLite(t), reg, obs, rateTarget(limit, 0, rx.post("a")))
	n := limit * seconds
	emitBacklog(t, e, n)

	// The window: from a second after the first arrival (past the first
	// burst and the direct attempts' start) to two seconds before the
	// backlog would be done at the limit.
	first := rx.wait(t, 1, 0)[0].at
	from, to := first.Add(time.Second), first.Add(time.Duration(seconds-2)*time.Second)
	arrived := rx.wait(t, n, time.Duration(2*seconds)*time.Second)
	got := countBetween(arrived, from, to, "")
	span := to.Sub(from).Seconds()
	want := limit * span
	t.Logf("%d requests in %.0f s: %.2f/s (limit %d/s)", got, span, float64(got)/span, limit)
	if float64(got) > want*1.05 {
		t.Errorf("%d requests in %.0f s: %.2f/s; want at most %d/s + 5 %%", got, span, float64(got)/span, limit)
	}
	if float64(got) < want*low {
		t.Errorf("%d requests in %.0f s: %.2f/s; want at least %.0f %% of %d/s", got, span, float64(got)/span, low*100, limit)
	}
	if last := arrived[len(arrived)-1].at; last.Before(to) {
		t.Errorf("the backlog was done at %s, before the window's end %s: the window did not measure a backlog", last, to)
	}
	checkWaitedNeverFailed(t, n, obs)
	if limited, waited := reg.sum("hookd_rate_limited_total"), reg.count("hookd_rate_limit_wait_seconds"); limited < float64(n/2) || waited != limited {
		t.Errorf("hookd_rate_limited_total = %v, hookd_rate_limit_wait_seconds observed %v times; want each about %d (most of the backlog waited)",
			limited, waited, n)
	}
}

// TestRateLimitDirectBecomesJob: a delivery that takes the direct path
// while its target's limit is spent beyond maxRateWait is handed to a
// River job due when the limit lets it go; it is delivered after one
// attempt, never failed for the limit.
func TestRateLimitDirectBecomesJob(t *testing.T) {
	var mu sync.Mutex
	var calls []time.Time
	h := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) {
		mu.Lock()
		calls = append(calls, time.Now())
		mu.Unlock()
		return hook.Result{}, nil
	})
	obs := hooktest.NewObservations()
	e := openRated(t, storetest.SQLite(t), nil, obs, rateTarget(1, 1, h))
	ctx := context.Background()
	// 1/s, burst 1: the first goes at once, the second waits a second in
	// place, the third would wait two: its job is due then.
	for range 2 {
		if _, err := e.Emit(ctx, map[string]string{"MODULE": "TEST", "EVENT": "E"}); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	if _, err := e.Emit(ctx, map[string]string{"MODULE": "TEST", "EVENT": "E"}); err != nil {
		t.Fatal(err)
	}
	checkWaitedNeverFailed(t, 3, obs)
	jobs := jobStarts(t, e)
	if len(jobs) != 1 {
		t.Fatalf("%d River jobs worked; want 1 (the third delivery's; the others went the direct path)", len(jobs))
	}
	if due := jobs[0].scheduled.Sub(before); due <= time.Second {
		t.Errorf("the job was due %s after the emit; want more than the longest wait in place (1s)", due)
	}
	mu.Lock()
	defer mu.Unlock()
	if gap := calls[2].Sub(calls[0]); gap < 1500*time.Millisecond {
		t.Errorf("the third attempt started %s after the first; want about 2s at 1/s", gap)
	}
}

// TestRateLimitTwoNodes: two nodes on one PostgreSQL store, one target
// limited to 40/s: each takes half (20/s, it says so), and the receiver
// sees at most 40/s from both together; every delivery arrives once,
// after one attempt. A node that stops hands its share back.
func TestRateLimitTwoNodes(t *testing.T) {
	const limit = 40
	st := storetest.Postgres(t)
	rx := newArrivals(t)
	obsA, obsB := hooktest.NewObservations(), hooktest.NewObservations()
	a := openRated(t, st, nil, obsA, rateTarget(limit, 0, rx.post("a")))
	b := openRated(t, st, nil, obsB, rateTarget(limit, 0, rx.post("b")))
	waitCond(t, "both nodes to count two nodes", func() bool { return a.Nodes() == 2 && b.Nodes() == 2 })
	for _, e := range []*engine.Engine{a, b} {
		if v := rateView(t, e); !strings.Contains(v, "20/s, burst 1 on this node of 2") {
			t.Errorf("the target's rate limit reads %q; want this node's share, 20/s of 2", v)
		}
	}

	const seconds = 10
	n := limit * seconds
	emitBacklog(t, a, n)
	first := rx.wait(t, 1, 0)[0].at
	from, to := first.Add(time.Second), first.Add((seconds-3)*time.Second)
	arrived := rx.wait(t, n, 2*seconds*time.Second)
	span := to.Sub(from).Seconds()
	got, byA, byB := countBetween(arrived, from, to, ""), countBetween(arrived, from, to, "a"), countBetween(arrived, from, to, "b")
	t.Logf("%d requests in %.0f s: %.2f/s (node a %.2f/s, node b %.2f/s; limit %d/s)", got, span, float64(got)/span,
		float64(byA)/span, float64(byB)/span, limit)
	if float64(got) > limit*span*1.05 {
		t.Errorf("both nodes sent %.2f/s; want at most %d/s + 5 %%", float64(got)/span, limit)
	}
	for node, c := range map[string]int{"a": byA, "b": byB} {
		if float64(c) > limit/2*span*1.05 {
			t.Errorf("node %s sent %.2f/s; want at most its share %d/s + 5 %%", node, float64(c)/span, limit/2)
		}
	}
	if float64(got) < limit*span*0.25 {
		t.Errorf("both nodes sent %.2f/s; want at least a quarter of the limit %d/s (a loaded machine may fall short of it)", float64(got)/span, limit)
	}
	waitCond(t, "every delivery's outcome", func() bool { return len(obsA.Seen())+len(obsB.Seen()) >= n })
	checkOutcomes(t, n, append(obsA.Seen(), obsB.Seen()...))

	// b stops: a has the whole limit at its next beat.
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "node a to count one node", func() bool { return a.Nodes() == 1 })
	if v := rateView(t, a); v != "40/s, burst 1" {
		t.Errorf("after b stopped, the rate limit reads %q; want the whole of it, 40/s, burst 1", v)
	}
}

// TestRateLimitSQLiteOneNode: on SQLite the node is alone: the limit is
// not divided.
func TestRateLimitSQLiteOneNode(t *testing.T) {
	e := openRated(t, storetest.SQLite(t), nil, hooktest.NewObservations(), rateTarget(40, 4, hook.HandlerFunc(okHandler)))
	if e.Nodes() != 1 {
		t.Errorf("Nodes() = %d on SQLite; want 1", e.Nodes())
	}
	if v := rateView(t, e); v != "40/s, burst 4" {
		t.Errorf("the rate limit reads %q; want 40/s, burst 4", v)
	}
}

// TestRateLimitHeld: a delivery waiting for its target's rate limit says
// so in the delivery log, rather than looking pending for no reason.
func TestRateLimitHeld(t *testing.T) {
	e := openRated(t, storetest.SQLite(t), nil, hooktest.NewObservations(), rateTarget(0.5, 1, hook.HandlerFunc(okHandler)))
	emitBacklog(t, e, 5) // one now, one waited for in place, three deferred (2 s apart)
	const want = "held: rate limit 0.5/s: attempts wait their turn, the last until about "
	waitCond(t, "a pending delivery held by the rate limit", func() bool {
		ds, err := e.ListDeliveries(context.Background(), hook.DeliveryFilter{State: hook.StatePending})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if strings.HasPrefix(d.Held, want) {
				return true
			}
		}
		return false
	})
}

func okHandler(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil }

// rateTarget is a target "limited" with the rate limit and burst given.
func rateTarget(limit float64, burst int, h hook.Handler) hook.Target {
	return hook.Target{Name: "limited", Handler: h, Delivery: &hook.DeliverySettings{RateLimit: limit, Burst: burst}}
}

// openRated opens and starts an engine on st with targets, its metrics in
// reg (nil: none), closed when t ends.
func openRated(t *testing.T, st hookrt.StoreConfig, reg hook.MetricsRegistry, obs *hooktest.Observations, targets ...hook.Target) *engine.Engine {
	t.Helper()
	d := fast()
	d.Workers = 64 // 32 in flight per target: room for waiters in place, as production's 500 have
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN},
		Delivery: d,
		ServerID: "test",
		Targets:  targets,
		Observer: obs.Observe,
		Metrics:  reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	return e
}

// emitBacklog emits n events, in batches of up to 500.
func emitBacklog(t *testing.T, e *engine.Engine, n int) {
	t.Helper()
	for done := 0; done < n; {
		batch := make([]map[string]string, min(500, n-done))
		for i := range batch {
			batch[i] = map[string]string{"MODULE": "TEST", "EVENT": "E", "N": fmt.Sprint(done + i)}
		}
		if _, err := e.EmitMany(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		done += len(batch)
	}
}

// checkWaitedNeverFailed waits until n deliveries are delivered and checks
// that each took one attempt and none had another outcome.
func checkWaitedNeverFailed(t *testing.T, n int, obs *hooktest.Observations) {
	t.Helper()
	seen := obs.Wait(t, fmt.Sprintf("%d deliveries delivered", n), func(seen []hook.Observation) bool {
		return hooktest.Count(seen, hook.StateDelivered, "") >= n
	})
	checkOutcomes(t, n, seen)
}

// checkOutcomes checks that seen are n deliveries, each delivered after
// one attempt.
func checkOutcomes(t *testing.T, n int, seen []hook.Observation) {
	t.Helper()
	ids := map[int64]bool{}
	for _, o := range seen {
		if o.State != hook.StateDelivered || o.Attempt != 1 || ids[o.DeliveryID] {
			t.Fatalf("delivery %d: %s after %d attempts (%s); want each delivered once, after one attempt: the limit makes deliveries wait, never fail",
				o.DeliveryID, o.State, o.Attempt, o.Reason)
		}
		ids[o.DeliveryID] = true
	}
	if len(ids) != n {
		t.Fatalf("%d deliveries delivered; want %d", len(ids), n)
	}
}

// rateView is the target "limited"'s rate limit as TargetStatuses shows it.
func rateView(t *testing.T, e *engine.Engine) string {
	t.Helper()
	sts, err := e.TargetStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Name == "limited" && st.Delivery != nil {
			return st.Delivery.RateLimit
		}
	}
	t.Fatalf("no delivery view of target limited in %+v", sts)
	return ""
}

// waitCond waits until cond holds, looking every 10ms, or fails after
// hooktest.Patience.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hooktest.Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// arrival is one request a receiver saw: when, and from which node.
type arrival struct {
	at   time.Time
	node string
}

// arrivals is a loopback receiver that notes when each request arrives.
type arrivals struct {
	srv    *httptest.Server
	client *http.Client
	mu     sync.Mutex
	seen   []arrival
	ch     chan struct{}
}

func newArrivals(t *testing.T) *arrivals {
	rx := &arrivals{ch: make(chan struct{}, 1)}
	rx.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		rx.mu.Lock()
		rx.seen = append(rx.seen, arrival{at: now, node: r.Header.Get("X-Node")})
		rx.mu.Unlock()
		select {
		case rx.ch <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	rx.client = &http.Client{Transport: tr}
	t.Cleanup(func() { tr.CloseIdleConnections(); rx.srv.Close() })
	return rx
}

// post is a handler that posts each event to the receiver as node.
func (rx *arrivals) post(node string) hook.Handler {
	return hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rx.srv.URL, strings.NewReader(ev.ID))
		if err != nil {
			return hook.Result{}, err
		}
		req.Header.Set("X-Node", node)
		resp, err := rx.client.Do(req)
		if err != nil {
			return hook.Result{}, err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return hook.Result{Status: resp.StatusCode}, fmt.Errorf("status %d", resp.StatusCode)
		}
		return hook.Result{Status: resp.StatusCode}, nil
	})
}

// wait returns the arrivals, in time order, once there are at least n;
// it fails the test after hooktest.Patience beyond longer.
func (rx *arrivals) wait(t *testing.T, n int, longer time.Duration) []arrival {
	t.Helper()
	deadline := time.After(hooktest.Patience + longer)
	for {
		rx.mu.Lock()
		seen := slices.Clone(rx.seen)
		rx.mu.Unlock()
		if len(seen) >= n {
			slices.SortFunc(seen, func(a, b arrival) int { return a.at.Compare(b.at) })
			return seen
		}
		select {
		case <-rx.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d requests; got %d", n, len(seen))
		}
	}
}

// countBetween counts the arrivals in [from, to) from node ("": any).
func countBetween(seen []arrival, from, to time.Time, node string) int {
	n := 0
	for _, a := range seen {
		if !a.at.Before(from) && a.at.Before(to) && (node == "" || a.node == node) {
			n++
		}
	}
	return n
}

// testRegistry is a prometheus registry as the engine's Options.Metrics.
type testRegistry struct{ *prometheus.Registry }

func newTestRegistry() testRegistry { return testRegistry{prometheus.NewRegistry()} }

func (r testRegistry) Register(c any) error {
	col, ok := c.(prometheus.Collector)
	if !ok {
		return fmt.Errorf("%T is not a prometheus.Collector", c)
	}
	return r.Registry.Register(col)
}

func (r testRegistry) PerTarget() bool { return false }

// sum is the sum of the counter name's series.
func (r testRegistry) sum(name string) float64 {
	total := 0.0
	for _, m := range r.family(name) {
		total += m.GetCounter().GetValue()
	}
	return total
}

// count is how many observations the histogram name's series hold.
func (r testRegistry) count(name string) float64 {
	total := 0.0
	for _, m := range r.family(name) {
		total += float64(m.GetHistogram().GetSampleCount())
	}
	return total
}

func (r testRegistry) family(name string) []*dto.Metric {
	fams, _ := r.Gather()
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

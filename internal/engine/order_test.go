package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport"
	hookrt "github.com/hookrt/hookd/runtime"
)

// keyReceiver is a loopback HTTP receiver of ordered deliveries: each
// request names its key and its sequence number within the key (headers
// X-Key, X-Seq); it answers with what fail says, records the order in
// which each key's requests arrived and which it accepted, and notes a
// key with two requests in flight at once.
type keyReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	fail     func(key string, seq, attempt int) int // the status to answer; < 300 accepts
	inflight map[string]int
	overlap  []string
	tried    map[string][]int // seqs in arrival order, failures included
	accepted map[string][]int
	total    int
	changed  chan struct{}
}

func newKeyReceiver(t *testing.T, fail func(key string, seq, attempt int) int) *keyReceiver {
	r := &keyReceiver{fail: fail, inflight: map[string]int{}, tried: map[string][]int{}, accepted: map[string][]int{},
		changed: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := req.Header.Get("X-Key")
		seq, err := strconv.Atoi(req.Header.Get("X-Seq"))
		if err != nil {
			http.Error(w, "no X-Seq", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.inflight[key]++
		if r.inflight[key] > 1 {
			r.overlap = append(r.overlap, fmt.Sprintf("%q at seq %d", key, seq))
		}
		attempt := 0
		for _, s := range r.tried[key] {
			if s == seq {
				attempt++
			}
		}
		r.tried[key] = append(r.tried[key], seq)
		fail := r.fail
		r.mu.Unlock()
		status := fail(key, seq, attempt)
		r.mu.Lock()
		r.inflight[key]--
		if status < 300 {
			r.accepted[key] = append(r.accepted[key], seq)
			r.total++
		}
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Server.Close)
	return r
}

// setFail switches the answers.
func (r *keyReceiver) setFail(fail func(key string, seq, attempt int) int) {
	r.mu.Lock()
	r.fail = fail
	r.mu.Unlock()
}

// handler is the target's handler: one POST per attempt; 4xx is a
// permanent failure, 5xx one to retry.
func (r *keyReceiver) handler() hook.Handler {
	return hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, nil)
		if err != nil {
			return hook.Result{}, err
		}
		req.Header.Set("X-Key", ev.Get("SESSIONID"))
		req.Header.Set("X-Seq", ev.Get("SEQ"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return hook.Result{}, err
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 500:
			return hook.Result{Status: resp.StatusCode}, fmt.Errorf("HTTP %d", resp.StatusCode)
		case resp.StatusCode >= 300:
			return hook.Result{Status: resp.StatusCode}, hook.Permanent(fmt.Errorf("HTTP %d", resp.StatusCode))
		}
		return hook.Result{Status: resp.StatusCode}, nil
	})
}

// wait blocks until cond holds over the receiver's records, failing t
// when nothing arrived for hooktest.Patience (a run that makes progress
// may take as long as it needs on a loaded machine).
func (r *keyReceiver) wait(t *testing.T, what string, cond func(r *keyReceiver) bool) {
	t.Helper()
	for {
		r.mu.Lock()
		ok := cond(r)
		total := r.total
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(hooktest.Patience):
			t.Fatalf("timed out waiting for %s: nothing arrived for %s (%d accepted)", what, hooktest.Patience, total)
		}
	}
}

// triedOf returns the arrival order of key's requests.
func (r *keyReceiver) triedOf(key string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tried[key])
}

// orderedTarget is a target ordered by SESSIONID.
func orderedTarget(name string, h hook.Handler) hook.Target {
	return hook.Target{Name: name, Handler: h, Delivery: &hook.DeliverySettings{OrderedBy: "SESSIONID"}}
}

// sessionEvent is an event of key (none when "": the field is missing)
// with its sequence number.
func sessionEvent(key string, seq int) map[string]string {
	f := map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "MESSAGE", "SEQ": strconv.Itoa(seq)}
	if key != "" {
		f["SESSIONID"] = key
	}
	return f
}

// TestOrderedPerKey: 1,000 events over 50 keys (one of them the missing
// field, key ""), emitted concurrently but in order within each key,
// arrive in order per key with at most one request of a key in flight,
// although the receiver fails a quarter of the first attempts (some
// twice). The 10,000-event form is a long case.
func TestOrderedPerKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) { testOrderedPerKey(t, st, 1000) })
}

func TestOrderedPerKeyLong(t *testing.T) {
	testsupport.Long(t, "10,000 ordered events over 50 keys with retries")
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) { testOrderedPerKey(t, st, 10000) })
}

func testOrderedPerKey(t *testing.T, st hookrt.StoreConfig, events int) {
	const keys = 50
	perKey := events / keys
	rcv := newKeyReceiver(t, func(_ string, seq, attempt int) int {
		switch {
		case seq%8 == 3 && attempt < 2, seq%8 == 6 && attempt < 1:
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	d := fast()
	d.Schedule = []time.Duration{10 * time.Millisecond}
	e := open(t, st, d, hooktest.NewObservations(), orderedTarget("ordered", rcv.handler()))
	key := func(k int) string {
		if k == 0 {
			return "" // the field is missing: ordered under ""
		}
		return fmt.Sprintf("s%02d", k)
	}
	ctx := context.Background()
	const emitters = 10
	errs := make(chan error, emitters)
	for g := range emitters {
		go func() {
			for seq := range perKey {
				for k := g; k < keys; k += emitters {
					if _, err := e.Emit(ctx, sessionEvent(key(k), seq)); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range emitters {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rcv.wait(t, fmt.Sprintf("%d events accepted", events), func(r *keyReceiver) bool { return r.total >= events })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.overlap) > 0 {
		t.Errorf("two requests of one key in flight at once: %v", rcv.overlap[:min(5, len(rcv.overlap))])
	}
	want := make([]int, perKey)
	for i := range want {
		want[i] = i
	}
	for k := range keys {
		if got := rcv.accepted[key(k)]; !slices.Equal(got, want) {
			t.Errorf("key %q accepted %v, want 0..%d in order", key(k), got, perKey-1)
		}
		if tried := rcv.tried[key(k)]; !slices.IsSorted(tried) {
			t.Errorf("key %q was attempted out of order: %v", key(k), tried)
		}
	}
}

// TestOrderedFailingHeadHoldsOnlyItsKey: a key whose head keeps failing
// waits (its next delivery is not attempted, and says behind which one it
// waits), while another key flows; a replay of the failing head is
// attempted at once (its key's job is woken) and the key resumes in order.
func TestOrderedFailingHeadHoldsOnlyItsKey(t *testing.T) {
	storetest.Run(t, testOrderedFailingHead)
}

func testOrderedFailingHead(t *testing.T, st hookrt.StoreConfig) {
	rcv := newKeyReceiver(t, func(key string, seq, _ int) int {
		if key == "A" && seq == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	d := fast()
	d.Schedule = []time.Duration{time.Hour} // a failed head waits for the replay
	d.MaxAge = 100 * time.Hour
	reg := orderRegistry{prometheus.NewRegistry()}
	obs := hooktest.NewObservations()
	e, err := engine.Open(context.Background(), engine.Options{
		Store: engine.StoreOptions{Driver: st.Driver, Path: st.Path, DSN: st.DSN}, Delivery: d, ServerID: "test",
		Targets: []hook.Target{orderedTarget("ordered", rcv.handler())}, Metrics: reg, Observer: obs.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, e)
	ctx := context.Background()
	for _, ev := range []map[string]string{sessionEvent("A", 0), sessionEvent("A", 1), sessionEvent("B", 0), sessionEvent("B", 1)} {
		if _, err := e.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	rcv.wait(t, "B's two accepted and A's head tried", func(r *keyReceiver) bool {
		return len(r.accepted["B"]) == 2 && len(r.tried["A"]) == 1
	})
	obs.Wait(t, "A's head recorded as retrying", func(o []hook.Observation) bool { return hooktest.Count(o, "retrying", "") == 1 })
	head, behind := deliveryOf(t, e, "A", 0), deliveryOf(t, e, "A", 1)
	if head.State != hook.StateRetrying || behind.State != hook.StatePending {
		t.Fatalf("A's head is %s, the next %s; want retrying and pending", head.State, behind.State)
	}
	want := fmt.Sprintf("held: waiting behind delivery %d (ordered by SESSIONID=A)", head.ID)
	if behind.Held != want {
		t.Errorf("the delivery behind the head is held %q, want %q", behind.Held, want)
	}
	if one, err := e.Delivery(ctx, behind.ID); err != nil || one.Held != want {
		t.Errorf("Delivery(%d).Held = %q (%v), want %q", behind.ID, one.Held, err, want)
	}
	if head.Held != "" {
		t.Errorf("the head is held %q; nothing holds it but its schedule", head.Held)
	}
	if got := rcv.triedOf("A"); !slices.Equal(got, []int{0}) {
		t.Fatalf("A was tried %v while its head failed; want [0]", got)
	}
	if n := reg.count(t, "hookd_order_wait_seconds"); n != 3 {
		t.Errorf("hookd_order_wait_seconds counted %d first attempts; want 3 (A's head, B's two)", n)
	}

	rcv.setFail(func(string, int, int) int { return http.StatusNoContent })
	if err := e.Retry(ctx, head.ID, false); err != nil {
		t.Fatal(err)
	}
	rcv.wait(t, "A's two accepted after the replay", func(r *keyReceiver) bool { return len(r.accepted["A"]) == 2 })
	if got := rcv.triedOf("A"); !slices.Equal(got, []int{0, 0, 1}) {
		t.Errorf("A was tried %v; want [0 0 1]", got)
	}
}

// TestOrderedReplayKeepsOrder: a dead delivery replayed while later ones
// of its key wait behind a failing head goes first, at once (it is the
// oldest); the failing head keeps its own schedule, and when it is
// replayed too the key goes on in order.
func TestOrderedReplayKeepsOrder(t *testing.T) {
	storetest.Run(t, testOrderedReplay)
}

func testOrderedReplay(t *testing.T, st hookrt.StoreConfig) {
	rcv := newKeyReceiver(t, func(key string, seq, _ int) int {
		switch seq {
		case 0:
			return http.StatusUnprocessableEntity // dead at once
		case 1:
			return http.StatusServiceUnavailable // retrying, for an hour
		}
		return http.StatusNoContent
	})
	d := fast()
	d.Schedule = []time.Duration{time.Hour}
	d.MaxAge = 100 * time.Hour
	e := open(t, st, d, hooktest.NewObservations(), orderedTarget("ordered", rcv.handler()))
	ctx := context.Background()
	for seq := range 3 {
		if _, err := e.Emit(ctx, sessionEvent("A", seq)); err != nil {
			t.Fatal(err)
		}
	}
	rcv.wait(t, "the dead head, then the failing one", func(r *keyReceiver) bool { return len(r.tried["A"]) == 2 })
	dead := deliveryOf(t, e, "A", 0)
	if dead.State != hook.StateDead {
		t.Fatalf("A's first is %s, want dead", dead.State)
	}
	rcv.setFail(func(string, int, int) int { return http.StatusNoContent })
	if err := e.Retry(ctx, dead.ID, false); err != nil {
		t.Fatal(err)
	}
	rcv.wait(t, "the replayed one accepted", func(r *keyReceiver) bool { return len(r.accepted["A"]) == 1 })
	if got := rcv.triedOf("A"); !slices.Equal(got, []int{0, 1, 0}) {
		t.Errorf("A was tried %v; want [0 1 0]: the replayed one at once, the failed one at its next attempt", got)
	}
	if err := e.Retry(ctx, deliveryOf(t, e, "A", 1).ID, false); err != nil {
		t.Fatal(err)
	}
	rcv.wait(t, "all three accepted", func(r *keyReceiver) bool { return len(r.accepted["A"]) == 3 })
	if got := rcv.triedOf("A"); !slices.Equal(got, []int{0, 1, 0, 1, 2}) {
		t.Errorf("A was tried %v; want [0 1 0 1 2]: the replayed one first, then the rest in order", got)
	}
}

// TestOrderedMissingField: events without the ordered_by field are
// ordered together, under the key "", and the held reason says so; a
// discarded head lets its key go on at once.
func TestOrderedMissingField(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		rcv := newKeyReceiver(t, func(key string, seq, _ int) int {
			if key == "" && seq == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		d := fast()
		d.Schedule = []time.Duration{time.Hour}
		d.MaxAge = 100 * time.Hour
		e := open(t, st, d, hooktest.NewObservations(), orderedTarget("ordered", rcv.handler()))
		ctx := context.Background()
		empty := sessionEvent("", 1)
		empty["SESSIONID"] = "" // present but empty: the same key as missing
		for _, ev := range []map[string]string{sessionEvent("", 0), empty, sessionEvent("C", 0)} {
			if _, err := e.Emit(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		rcv.wait(t, "C accepted and the failing head tried", func(r *keyReceiver) bool {
			return len(r.accepted["C"]) == 1 && len(r.tried[""]) == 1
		})
		head, behind := deliveryOf(t, e, "", 0), deliveryOf(t, e, "", 1)
		want := fmt.Sprintf(`held: waiting behind delivery %d (ordered by SESSIONID="" (the field is missing or empty))`, head.ID)
		if behind.Held != want {
			t.Errorf("held %q, want %q", behind.Held, want)
		}
		if got := rcv.triedOf(""); !slices.Equal(got, []int{0}) {
			t.Errorf("key \"\" was tried %v; want [0]", got)
		}
		// Discarding the failing head lets the key go on at once, not
		// at the head's next attempt an hour away.
		if err := e.Discard(ctx, head.ID); err != nil {
			t.Fatal(err)
		}
		rcv.wait(t, "the next one of key \"\" accepted", func(r *keyReceiver) bool { return len(r.accepted[""]) == 1 })
	})
}

// deliveryOf finds the delivery of key's event seq.
func deliveryOf(t *testing.T, e *engine.Engine, key string, seq int) hook.Delivery {
	t.Helper()
	ds, err := e.ListDeliveries(context.Background(), hook.DeliveryFilter{Target: "ordered", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		ev, err := e.DB().GetDelivery(context.Background(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Event["SESSIONID"] == key && ev.Event["SEQ"] == strconv.Itoa(seq) {
			return d
		}
	}
	t.Fatalf("no delivery of %q seq %d among %d", key, seq, len(ds))
	return hook.Delivery{}
}

// orderRegistry is a Prometheus registry as the engine's Options.Metrics.
type orderRegistry struct{ *prometheus.Registry }

func (r orderRegistry) Register(c any) error {
	col, ok := c.(prometheus.Collector)
	if !ok {
		return fmt.Errorf("%T is not a prometheus.Collector", c)
	}
	return r.Registry.Register(col)
}

func (orderRegistry) PerTarget() bool { return false }

// count is how many observations the histogram name holds, over its labels.
func (r orderRegistry) count(t *testing.T, name string) uint64 {
	t.Helper()
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// TestOrderedTwoNodes: two engines on one PostgreSQL, each emitting half
// of every key's events in turn (node a the even, node b the odd ones,
// each emit after the one before it returned), deliver every key in
// order with never two requests of a key in flight: the key's one job
// runs on one node at a time, whichever node emitted.
func TestOrderedTwoNodes(t *testing.T) {
	st := storetest.Postgres(t)
	const keys, perKey = 10, 20
	rcv := newKeyReceiver(t, func(_ string, seq, attempt int) int {
		if seq%5 == 2 && attempt == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	d := fast()
	d.Schedule = []time.Duration{10 * time.Millisecond}
	nodes := []*engine.Engine{
		open(t, st, d, hooktest.NewObservations(), orderedTarget("ordered", rcv.handler())),
		open(t, st, d, hooktest.NewObservations(), orderedTarget("ordered", rcv.handler())),
	}
	ctx := context.Background()
	errs := make(chan error, keys)
	for k := range keys {
		go func() {
			for seq := range perKey {
				if _, err := nodes[seq%2].Emit(ctx, sessionEvent(fmt.Sprintf("k%d", k), seq)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rcv.wait(t, "every event accepted", func(r *keyReceiver) bool { return r.total >= keys*perKey })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.overlap) > 0 {
		t.Errorf("two requests of one key in flight at once: %v", rcv.overlap)
	}
	want := make([]int, perKey)
	for i := range want {
		want[i] = i
	}
	for k := range keys {
		key := fmt.Sprintf("k%d", k)
		if got := rcv.accepted[key]; !slices.Equal(got, want) {
			t.Errorf("key %s accepted %v, want 0..%d in order", key, got, perKey-1)
		}
	}
}

package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// The burst queue: a delivery emitted when the direct path has no free
// slot (every one of Options.Delivery.Workers is busy, or its target is at
// its in-flight cap) is still committed with a lease instead of a River
// job, and waits here, in memory, for a slot. A direct attempt that ends
// takes the next queued delivery on the same goroutine and slot. So a
// burst beyond the slots drains at the direct path's rate, not at River's
// (its poll, fetch and completion: ~1,200 deliveries/s on SQLite).
//
// River stays the durable record and the retry path. The lease of a
// queued delivery is the direct one (safetyDelay) plus queueAge: it covers
// the time on the queue. A delivery still queued queueAge after its emit
// is not attempted from memory: its lease would no longer cover a whole
// attempt. It gets a River job due now, in the record group commit (the
// lease ends in the same write), well before the lease runs out, so a
// live node never attempts it twice. A node lost with deliveries queued
// leaves them to their leases: the sweep (rescue.go) gives them jobs at
// most safetyDelay + queueAge + rescueInterval after their emit, which is
// why RescueBound includes queueAge.
//
// The queue is bounded by count and by age. Up to queueMemPerSlot per slot
// (at least queueMemMin) wait with their event in memory; beyond that, up
// to queueMaxPerSlot per slot, as their ID only (a few dozen bytes), and
// the event is read back when a slot takes them (one read, still less
// than a River job). A delivery beyond queueMaxPerSlot gets a River job due
// now, as before the queue. The queue does not guess how fast it will
// drain: a burst arrives faster than any drain rate can be measured (a
// batch API client gave 50,000 events in 3.5 s, and a rate measured
// during that ingest is a fraction of the node's), and what the drain does
// not reach within queueAge gets its River job then, as it would have at
// once.
//
// What does not use the queue, exactly as it does not use the direct
// path: EmitTx's deliveries, retries, combining and ordered targets. Nor
// rate-limited targets: their attempts wait their turn in River's
// schedule (ratelimit.go). Everything an attempt checks (pause and
// disable, the breaker, the maximum age, the in-flight cap) is checked
// when a slot takes the delivery, as for any direct attempt.
//
// At stop, queued deliveries are turned into River jobs due now (one
// group write), so that on PostgreSQL the other nodes take them at once;
// if that write cannot be made before the stop's deadline, their leases
// remain, and the sweep (at start on SQLite, for every lease) takes them.
const (
	// queueAge is the longest a delivery waits on the queue.
	queueAge = 20 * time.Second
	// queueMemPerSlot is how many deliveries per slot wait with their
	// event in memory.
	queueMemPerSlot = 20
	// queueMemMin is the least kept in memory, whatever the slots: a few
	// MB at most.
	queueMemMin = 4096
	// queueReads bounds the reads back in progress at once: on SQLite's
	// one connection, a read per slot at once would queue hundreds of
	// reads ahead of every group commit and River's fetch.
	queueReads = 4
	// queueMaxPerSlot bounds the queue per slot, counting those kept as
	// their ID only.
	queueMaxPerSlot = 100
	// queueTick is how often the queue hands aged deliveries over to River
	// and starts slots for what waits.
	queueTick = 250 * time.Millisecond
)

// queued is one delivery on the burst queue.
type queued struct {
	t      *target
	id     int64
	gen    int
	wk     *store.Work // nil: kept as its ID; read back when taken
	parent trace.SpanContext
	// deadline is the last moment a slot may take it: its lease then still
	// covers a whole direct attempt (safetyDelay).
	deadline time.Time
	// why it left the queue for River (toRiverAged, …): the reason label
	// of hookd_burst_queue_to_river_total.
	why string
}

// fifo is one target's queued deliveries, oldest first, and its series
// of hookd_burst_queue_deliveries, which moves with len under
// memQueue.mu, and of hookd_burst_queued_total (metrics.go): looked up
// once per fifo, not per delivery.
type fifo struct {
	items   []queued
	head    int
	waiting prometheus.Gauge
	queued  prometheus.Counter
}

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) pop() queued {
	it := f.items[f.head]
	f.items[f.head] = queued{}
	f.head++
	if f.head > 64 && f.head*2 > len(f.items) {
		f.items = append(f.items[:0], f.items[f.head:]...)
		f.head = 0
	}
	return it
}

// memQueue is the burst queue of a directPath.
type memQueue struct {
	age    time.Duration
	memCap int // queued with their event, at most
	maxLen int

	places atomic.Int64 // admitted: reserved by an emission, or queued

	mu      sync.Mutex
	byT     map[*target]*fifo
	ring    []*target // targets with queued deliveries, served in turn
	next    int
	n       int // queued
	inMem   int // queued with their event
	expired []queued
	closed  bool

	reads chan struct{} // a place per read back in progress (queueReads)

	once  sync.Once
	e     *Engine // set by the first push
	wake  chan struct{}
	quit  chan struct{}
	ended sync.WaitGroup
}

func newMemQueue(slots int) *memQueue {
	return &memQueue{
		age:    queueAge,
		memCap: max(queueMemMin, slots*queueMemPerSlot),
		maxLen: max(1, slots*queueMaxPerSlot),
		byT:    map[*target]*fifo{},
		wake:   make(chan struct{}, 1),
		reads:  make(chan struct{}, queueReads),
		quit:   make(chan struct{}),
	}
}

// admit reserves a place on the queue for one delivery, if the queue has
// room for it (see the bounds above); the caller must push or unadmit it.
func (q *memQueue) admit(t *target) bool {
	if q == nil || t.rate != nil {
		return false
	}
	if q.places.Add(1) > int64(q.maxLen) {
		q.places.Add(-1)
		return false
	}
	return true
}

// unadmit gives back n places of deliveries that were not committed.
func (q *memQueue) unadmit(n int) { q.places.Add(int64(-n)) }

// push queues committed deliveries, and returns those it cannot take
// because the queue closed meanwhile (the caller hands them to River).
func (q *memQueue) push(e *Engine, items []queued) []queued {
	q.once.Do(func() {
		q.e = e
		q.ended.Add(1)
		go q.run(e)
	})
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.places.Add(int64(-len(items)))
		for i := range items {
			items[i].why = toRiverStop
		}
		return items
	}
	for _, it := range items {
		if q.inMem >= q.memCap {
			it.wk = nil // the ID is enough: the event is read back when taken
		} else {
			q.inMem++
		}
		f := q.byT[it.t]
		if f == nil {
			f = &fifo{}
			f.waiting, f.queued = e.metrics.burstSeries(it.t.Name)
			q.byT[it.t] = f
			q.ring = append(q.ring, it.t)
		}
		f.items = append(f.items, it)
		f.waiting.Inc()
		f.queued.Inc()
		q.n++
	}
	return nil
}

// take removes the next delivery a slot may attempt now, reserving its
// target's in-flight place and use: the targets with queued deliveries
// take turns, and a target at its in-flight cap is passed over.
// Deliveries past their deadline, or whose target left the set, are moved
// to expired on the way. q.mu must be held.
func (q *memQueue) take(now time.Time) (queued, bool) {
	for passed := 0; passed < len(q.ring); {
		if q.next >= len(q.ring) {
			q.next = 0
		}
		t := q.ring[q.next]
		f := q.byT[t]
		for f.len() > 0 && now.After(f.items[f.head].deadline) {
			q.drop(f, f.pop(), toRiverAged)
		}
		if f.len() == 0 {
			delete(q.byT, t)
			q.ring = slices.Delete(q.ring, q.next, q.next+1)
			continue
		}
		if t.inflight.Add(1) > t.maxInflight {
			t.inflight.Add(-1)
			q.next++
			passed++
			continue
		}
		if !t.use() { // t left the target set: a job finds its successor
			t.inflight.Add(-1)
			for f.len() > 0 {
				q.drop(f, f.pop(), toRiverReplaced)
			}
			continue
		}
		it := f.pop()
		q.next++
		q.drop(f, it, "")
		return it, true
	}
	return queued{}, false
}

// drop accounts for it leaving f; a why (toRiverAged, …) moves it to
// expired, for River, an empty one means a slot took it or close returns it.
func (q *memQueue) drop(f *fifo, it queued, why string) {
	q.n--
	if it.wk != nil {
		q.inMem--
	}
	q.places.Add(-1)
	f.waiting.Dec()
	if why != "" {
		it.why = why
		q.expired = append(q.expired, it)
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// expire moves every delivery past its deadline to expired and returns
// them with those moved there before. q.mu must be held.
func (q *memQueue) expire(now time.Time) []queued {
	for _, f := range q.byT {
		keep := f.items[:f.head]
		for _, it := range f.items[f.head:] {
			if now.After(it.deadline) {
				q.drop(f, it, toRiverAged)
			} else {
				keep = append(keep, it)
			}
		}
		clear(f.items[len(keep):])
		f.items = keep
	}
	out := q.expired
	q.expired = nil
	return out
}

// len is how many deliveries are queued.
func (q *memQueue) len() int {
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// run, every queueTick or when woken, hands the deliveries past their
// deadline over to River and starts slots for what waits (a slot freed by
// a River worker's attempt, which does not look at the queue, is found
// here).
func (q *memQueue) run(e *Engine) {
	defer q.ended.Done()
	tick := time.NewTicker(queueTick)
	defer tick.Stop()
	for {
		select {
		case <-q.quit:
			return
		case <-tick.C:
		case <-q.wake:
		}
		now := time.Now()
		q.mu.Lock()
		aged := q.expire(now)
		q.mu.Unlock()
		dp := e.direct.Load()
		if len(aged) > 0 {
			e.queueToRiver(dp.ctx, aged)
		}
		dp.kick(e)
	}
}

// close stops the queue and returns what it holds, for River.
func (q *memQueue) close() []queued {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.quit)
	q.ended.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	left := q.expired
	q.expired = nil
	for _, t := range q.ring {
		f := q.byT[t]
		for f.len() > 0 {
			it := f.pop()
			q.drop(f, it, "")
			it.why = toRiverStop
			left = append(left, it)
		}
	}
	q.byT, q.ring = map[*target]*fifo{}, nil
	return left
}

// kick starts slots for queued deliveries while some are free.
func (d *directPath) kick(e *Engine) {
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && q.n > 0 {
		if d.used.Add(1) > d.slots {
			d.used.Add(-1)
			return
		}
		it, ok := q.take(time.Now())
		if !ok {
			d.used.Add(-1)
			return
		}
		d.wg.Add(1)
		go func() { e.runDirect(e.unqueue(d.ctx, it)) }() // the read back, if any, off the lock
	}
}

// handOn ends the attempt of a slot's delivery to t and gives the slot
// the next queued delivery, if one may go now, or frees it.
func (d *directPath) handOn(t *target) (queued, bool) {
	t.done()
	t.inflight.Add(-1)
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		if it, ok := q.take(time.Now()); ok {
			return it, true
		}
	}
	d.used.Add(-1)
	d.wg.Done()
	return queued{}, false
}

// unqueue makes a taken delivery a direct one: its event is read back if
// the queue kept its ID only. A delivery replayed or discarded meanwhile
// (another generation, or no longer live) has nothing to attempt: wk
// stays nil. So does one whose read fails (its lease is left to run out),
// or ends past its deadline (it gets a River job).
func (e *Engine) unqueue(ctx context.Context, it queued) directItem {
	di := directItem{t: it.t, wk: it.wk, parent: it.parent}
	if di.wk != nil {
		return di
	}
	q := e.direct.Load().q
	select {
	case q.reads <- struct{}{}:
	case <-ctx.Done():
		return di // stopping: the lease runs out, and a sweep takes it over
	}
	wk, err := e.db.LoadWork(ctx, it.id)
	<-q.reads
	switch {
	case err != nil:
		if ctx.Err() == nil && !errors.Is(err, hook.ErrNotFound) {
			e.log.WarnContext(ctx, "a queued delivery could not be read; a job will take it over when its lease runs out",
				slog.Int64("delivery", it.id), slog.String("target", it.t.Name), slog.Any("error", err))
		}
	case wk.Gen != it.gen || !wk.State.Live():
	case time.Now().After(it.deadline):
		// The read took so long that the lease may no longer cover a
		// whole attempt: River's job instead.
		it.why = toRiverAged
		e.queueToRiver(ctx, []queued{it})
	default:
		di.wk = wk
	}
	return di
}

// queueToRiver gives each of items a River job due now, ending its lease
// in the same write (the record group commit), and counts those it gave
// in hookd_burst_queue_to_river_total by their why. If that fails, the
// leases run out and the sweep gives the jobs (counted by neither).
func (e *Engine) queueToRiver(ctx context.Context, items []queued) {
	if len(items) == 0 {
		return
	}
	now := time.Now()
	ss := make([]settle, len(items))
	for i, it := range items {
		ss[i] = settle{release: it.id, add: &job{args: deliveryArgs{DeliveryID: it.id, Gen: it.gen}, at: now}}
	}
	n := 0
	for i, err := range e.settles.submit(ctx, ss...) {
		if err == nil {
			why := items[i].why
			if why == "" {
				why = toRiverStop
			}
			e.metrics.burstToRiver.WithLabelValues(append(e.metrics.labels(items[i].t.Name), why)...).Inc()
			continue
		}
		n++
		if n == 1 {
			e.log.WarnContext(ctx, "queued deliveries could not be handed to River; jobs will take them over when their leases run out",
				slog.Int64("delivery", items[i].id), slog.Int("deliveries", len(items)),
				slog.Duration("within", e.safetyDelay()+queueAge+rescueInterval), slog.Any("error", err))
		}
	}
}

package engine

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// The direct path: a delivery emitted through Emit or EmitMany is
// attempted by this process as soon as its transaction commits, with the
// event still in memory, instead of through a River job that a worker must
// find, load and complete. Such a delivery is committed with a lease
// (held_until, safetyDelay ahead) instead of a job; settling it stores the
// attempt and ends the lease in one statement, in the record group commit,
// and a retry gets a River job due at its next attempt.
//
// At-least-once holds because the lease is durable: if the process dies
// or stops before it settles a delivery, the lease runs out and the sweep
// (every rescueInterval, on every node; on SQLite also at start, for every
// lease, since the file lock proves no one else holds them) gives it a
// River job. What the direct path saves is River's insert, fetch and
// completion of a job and the reload of the event: on SQLite, with one
// connection, those statements were most of a delivery's cost. And a
// delivery leaves at once, where a worker on SQLite would wait for its
// next poll.
//
// A live process never has a direct attempt running when its lease runs
// out: safetyDelay is the job timeout (the longest attempt plus jobSlack)
// plus rescueGrace, and a direct attempt starts as soon as its emit
// commits, or, for a delivery that waited on the burst queue
// (memqueue.go), while its longer lease still covers safetyDelay.
// Deliveries this process has a free slot for take the direct path at
// once (Options.Delivery.Workers slots, and the target's in-flight cap);
// the others wait on the burst queue for a slot, within its bounds, or get
// a job due now, as do EmitTx's (the caller commits, not hookd) and every
// retry. So the node-loss bound is RescueBound, which counts the queue's
// age bound.

// safetyDelay is how long a direct delivery's lease lasts.
func (e *Engine) safetyDelay() time.Duration { return e.jobTimeout() + rescueGrace }

// directPath counts the direct attempts in flight and stops them.
type directPath struct {
	slots int64        // the most attempts at once
	used  atomic.Int64 // reserved or running
	wg    sync.WaitGroup

	mu     sync.RWMutex // orders reserve against stop
	closed bool

	ctx    context.Context // cancelled when the grace of a stop runs out
	cancel context.CancelFunc

	q *memQueue // the deliveries waiting for a slot (memqueue.go)
}

func newDirectPath(slots int) *directPath {
	ctx, cancel := context.WithCancel(context.Background())
	return &directPath{slots: int64(slots), ctx: ctx, cancel: cancel, q: newMemQueue(slots)}
}

// admit reserves a place on the burst queue for a delivery to t that
// found no free slot (memqueue.go); the caller must push or unadmit it.
func (d *directPath) admit(t *target) bool {
	if d == nil {
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return !d.closed && d.q.admit(t)
}

// reserve takes a slot for one delivery to t, if the process has one free
// and so has t (its in-flight cap, shared with River's workers, which wait
// when it is full); the caller must dispatch or release it.
func (d *directPath) reserve(t *target) bool {
	if d == nil {
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false
	}
	if t.inflight.Add(1) > t.maxInflight {
		t.inflight.Add(-1)
		return false
	}
	if d.used.Add(1) > d.slots {
		d.used.Add(-1)
		t.inflight.Add(-1)
		return false
	}
	if !t.use() { // t left the target set: a job finds its successor
		d.used.Add(-1)
		t.inflight.Add(-1)
		return false
	}
	d.wg.Add(1)
	return true
}

// release gives back the slot of a delivery to t.
func (d *directPath) release(t *target) {
	t.done()
	t.inflight.Add(-1)
	d.used.Add(-1)
	d.wg.Done()
}

// stop takes no more reservations, gives the deliveries on the burst
// queue River jobs (memqueue.go) and waits for the attempts in flight;
// when ctx ends first, it cancels them (their leases run out, and a sweep
// gives them jobs) and waits for them to return. A nil directPath is a no-op.
func (d *directPath) stop(ctx context.Context) {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	if left := d.q.close(); len(left) > 0 {
		d.q.e.queueToRiver(ctx, left)
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
	}
	d.cancel()
}

// directItem is one reserved delivery: its target and what the attempt
// needs.
type directItem struct {
	t      *target
	wk     *store.Work
	parent trace.SpanContext // the emit's span
}

// runDirect makes the direct attempt of it and settles it, then those of
// the queued deliveries its slot takes next (memqueue.go), until none may
// go. Whatever goes wrong before a delivery settles leaves it to the
// sweep, when its lease runs out. An item without work (a queued one
// replayed meanwhile) only passes its slot on.
func (e *Engine) runDirect(it directItem) {
	dp := e.direct.Load()
	for {
		if it.wk != nil {
			e.attemptDirect(dp, it)
		}
		next, ok := dp.handOn(it.t)
		if !ok {
			return
		}
		it = e.unqueue(dp.ctx, next)
	}
}

// attemptDirect makes the direct attempt of it and settles it.
func (e *Engine) attemptDirect(dp *directPath, it directItem) {
	ctx := trace.ContextWithSpanContext(dp.ctx, it.parent)
	t := it.t
	live, wait, err := e.preflight(ctx, t.Name, t, []*store.Work{it.wk})
	switch {
	case err != nil:
		e.directFailed(ctx, it, err)
		return
	case wait > 0: // paused
		e.handOver(ctx, it, wait)
		return
	case len(live) == 0: // dead without an attempt: recorded, and the lease ended with it
		return
	}
	r, err := e.attempt(ctx, t, live, true, func(ctx context.Context) (hook.Result, error) { return t.Handler.Handle(ctx, &it.wk.Event) })
	switch {
	case err != nil:
		e.directFailed(ctx, it, err)
	case !r.attempted && r.wait > 0: // busy, or the breaker is open
		e.handOver(ctx, it, r.wait)
	}
	// Not attempted without a wait: the stop cut the attempt short, and
	// the lease is left to run out.
}

// handOver gives the delivery to River: its lease ends, and a job due
// after wait takes over.
func (e *Engine) handOver(ctx context.Context, it directItem, wait time.Duration) {
	j := &job{args: deliveryArgs{DeliveryID: it.wk.ID, Gen: it.wk.Gen}, at: time.Now().Add(wait)}
	if err := e.settles.submit(ctx, settle{release: it.wk.ID, add: j})[0]; err != nil {
		e.directFailed(ctx, it, err)
	}
}

func (e *Engine) directFailed(ctx context.Context, it directItem, err error) {
	if ctx.Err() != nil {
		return // stopping: the lease runs out, and a sweep takes it over
	}
	e.log.WarnContext(ctx, "a delivery's direct attempt failed; a job will take it over when its lease runs out",
		slog.Int64("delivery", it.wk.ID), slog.String("target", it.t.Name),
		slog.Duration("within", e.safetyDelay()+rescueInterval), slog.Any("error", err))
}

// sweep gives a River job to every delivery whose lease ran out before
// cutoff, and returns how many. Its node died or stopped before settling
// it, or settling failed.
func (e *Engine) sweep(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := e.db.InTx(ctx, func(tx store.Tx) error {
			taken, err := store.TakeHeld(ctx, tx, cutoff, maxGroup)
			if err != nil {
				return err
			}
			n = len(taken)
			jobs := make([]job, len(taken))
			for i, r := range taken {
				jobs[i] = job{args: deliveryArgs{DeliveryID: r.ID, Gen: r.Gen}}
			}
			return e.q.insert(ctx, tx, jobs)
		})
		total += n
		if err != nil || n < maxGroup {
			return total, err
		}
	}
}

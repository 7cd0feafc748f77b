package engine

import (
	"context"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Order per key (a target's delivery.ordered_by): the deliveries of one
// key (the value of that event field; a missing field is the key "") are
// attempted one at a time, in commit order, by the key's one River job;
// other keys flow beside it. A failing head holds only its own key: the
// job snoozes until the head's next attempt. The job is armed in the
// emitting transaction like a combining target's batch job
// (store.ArmOrder); an ordered delivery never takes the direct path, and
// never has a job of its own.

// orderArgs is the River job of one key of an ordered target. Epoch
// matches the key's row while the job is the key's (store.TakeOrder).
type orderArgs struct {
	Target string `json:"t"`
	Key    string `json:"k"`
	Epoch  int64  `json:"e"`
}

// Kind is stable: it is stored with every job.
func (orderArgs) Kind() string { return "hookd_order" }

// orderRunMax bounds the deliveries one run of a key's job attempts
// before it yields its worker to other jobs (it snoozes for no time and
// goes on when a worker takes it again).
const orderRunMax = 100

// orderedBy is the event field that orders t's deliveries, or "" when
// they are not ordered. A combining target already sends in order, one
// request at a time (configuration refuses both).
func (t *target) orderedBy() string {
	if t == nil || t.Policy.Combine > 0 || t.Delivery == nil {
		return ""
	}
	return t.Delivery.OrderedBy
}

// orderKey is the key of ev for the ordered target t.
func orderKey(t *target, ev *hook.Event) string { return store.OrderKey(ev.Get(t.orderedBy())) }

// orderRef names one key of one target.
type orderRef struct{ target, key string }

// order notes that the key of target has a live delivery in this
// transaction: flush arms its job. wake also makes a waiting job due now
// (a replay is attempted at once).
func (em *emission) order(target, key string, wake bool) {
	if em.keys == nil {
		em.keys = map[orderRef]bool{}
	}
	r := orderRef{target, key}
	em.keys[r] = em.keys[r] || wake
}

// armKeys arms the job of every key noted, in one order of keys for
// every transaction (so that two transactions arming the same keys on
// PostgreSQL wait for each other instead of deadlocking).
func (em *emission) armKeys(ctx context.Context) error {
	if len(em.keys) == 0 {
		return nil
	}
	refs := make([]orderRef, 0, len(em.keys))
	for r := range em.keys {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].target != refs[j].target {
			return refs[i].target < refs[j].target
		}
		return refs[i].key < refs[j].key
	})
	for _, r := range refs {
		epoch, need, err := store.ArmOrder(ctx, em.tx, r.target, r.key)
		switch {
		case err != nil:
			return err
		case need:
			em.jobs = append(em.jobs, job{args: orderArgs{Target: r.target, Key: r.key, Epoch: epoch}})
		case em.keys[r]:
			if err := store.WakeOrder(ctx, em.tx, orderArgs{}.Kind(), r.target, r.key); err != nil {
				return err
			}
		}
	}
	em.keys = nil
	return nil
}

// again is a delivery made live again (replayed, or its paused target
// resumed) that needs something to move it.
type again struct {
	id     int64
	gen    int
	target string
	at     time.Time // when its next attempt is due; zero: now
}

// rejob gives each of ds what moves it: its key's job (woken) when it is
// ordered, its target's batch job when the target combines, else a job
// of its own.
func (em *emission) rejob(ctx context.Context, ds []again) error {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.id
	}
	keys, err := store.OrderKeys(ctx, em.tx, ids)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if key, ok := keys[d.id]; ok {
			em.order(d.target, key, true)
			continue
		}
		if t := em.e.lookup(d.target); t != nil && t.Policy.Combine > 0 {
			if err := em.arm(ctx, t); err != nil {
				return err
			}
			continue
		}
		em.jobs = append(em.jobs, job{args: deliveryArgs{DeliveryID: d.id, Gen: d.gen}, at: d.at})
	}
	return nil
}

// wakeKeyOf wakes the job of delivery id's key, if it is ordered: a
// discarded head must not hold its key until the next attempt it would
// have had.
func (e *Engine) wakeKeyOf(ctx context.Context, id int64) error {
	target, err := e.db.DeliveryTarget(ctx, id)
	if err != nil {
		return err
	}
	return e.db.InTx(ctx, func(tx store.Tx) error {
		keys, err := store.OrderKeys(ctx, tx, []int64{id})
		if err != nil || len(keys) == 0 {
			return err
		}
		em := emission{e: e, tx: tx, now: time.Now()}
		em.order(target, keys[id], true)
		return em.flush(ctx)
	})
}

// orderWorker works a key's job: it attempts the key's head, and after
// a delivered or dead one takes the next, until none is left (the job
// ends, the key disarmed), the head must wait (the job snoozes until
// then), or the run has done its share (orderRunMax, or too little of
// the job's time is left for another attempt).
type orderWorker struct {
	river.WorkerDefaults[orderArgs]
	e *Engine
}

func (w *orderWorker) Work(ctx context.Context, j *river.Job[orderArgs]) error {
	e, a := w.e, j.Args
	deadline, bounded := ctx.Deadline()
	for n := 0; ; n++ {
		head, stale, err := e.db.TakeOrder(ctx, a.Target, a.Key, a.Epoch)
		switch {
		case err != nil:
			return err
		case stale || head == nil:
			return nil
		case n >= orderRunMax:
			return e.snooze(0)
		}
		t := e.acquire(a.Target)
		if n > 0 && bounded && time.Until(deadline) < e.attemptTimeout(t)+jobSlack/2 {
			t.done()
			return e.snooze(0) // a fresh run has the whole job timeout
		}
		wait, next, err := e.orderHead(ctx, t, head)
		t.done()
		switch {
		case err != nil:
			return err
		case !next:
			return e.snooze(wait)
		}
	}
}

// attemptTimeout is the longest one attempt to t may take.
func (e *Engine) attemptTimeout(t *target) time.Duration {
	if t != nil && t.Policy.Timeout > 0 {
		return t.Policy.Timeout
	}
	return e.timeout
}

// orderHead makes the attempt of a key's head (t nil when this node does
// not know its target) and says whether the job goes on to the next head
// or waits, and how long.
func (e *Engine) orderHead(ctx context.Context, t *target, head *store.OrderWork) (wait time.Duration, next bool, err error) {
	if now := time.Now(); head.State == hook.StateRetrying && head.Next.After(now) {
		return head.Next.Sub(now), false, nil // not due yet: its key waits with it
	}
	wk := &head.Work
	live, wait, err := e.preflight(ctx, wk.Target, t, []*store.Work{wk})
	switch {
	case err != nil:
		return 0, false, err
	case wait > 0 && t == nil:
		return wait, false, nil
	case wait > 0:
		// Paused: the key's one job looks again soon, since a resume
		// cannot arm a second one beside it (it wakes this one).
		return 2*stateRefresh + spread(time.Second), false, nil
	case len(live) == 0:
		return 0, true, nil // dead without an attempt: the next one
	}
	first := wk.Attempts == wk.BaseAttempts
	r, err := e.attempt(ctx, t, live, false, func(ctx context.Context) (hook.Result, error) {
		if first { // from its commit (or replay) to its first attempt, now
			e.metrics.orderWait.WithLabelValues(e.metrics.labels(wk.Target)...).Observe(max(0, time.Since(wk.Since)).Seconds())
		}
		return t.Handler.Handle(ctx, &wk.Event)
	})
	switch {
	case err != nil:
		return 0, false, err
	case !r.attempted:
		return r.wait, false, nil
	case !r.recorded[0]:
		return 0, true, nil // replayed or discarded meanwhile: look again
	case r.outcomes[0].State == hook.StateRetrying:
		return max(0, time.Until(r.outcomes[0].NextAttempt)), false, nil
	}
	return 0, true, nil
}

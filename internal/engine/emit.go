package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/tracing"
)

// Emit commits an event and its deliveries and returns its EVENT_ID once
// committed. Concurrent calls share transactions (group commit).
func (e *Engine) Emit(ctx context.Context, fields map[string]string) (string, error) {
	id, _, err := e.EmitWithKey(ctx, "", fields)
	return id, err
}

// MaxIdempotencyKey is the longest idempotency key, in bytes.
const MaxIdempotencyKey = 255

// EmitWithKey is Emit with an idempotency key: the first call with a key
// commits the event; a repeat within the retention's idempotency window,
// on any node, commits nothing and returns the first call's EVENT_ID with
// repeated set, if its fields are the same, or an error matching
// hook.ErrConflict if they differ. An empty key is Emit.
func (e *Engine) EmitWithKey(ctx context.Context, key string, fields map[string]string) (id string, repeated bool, err error) {
	ids, repeated, err := e.EmitManyWithKey(ctx, key, []map[string]string{fields})
	if err != nil {
		return "", false, err
	}
	return ids[0], repeated, nil
}

// EmitMany commits several events, all or none, and returns their
// EVENT_IDs in order. Concurrent calls share transactions.
func (e *Engine) EmitMany(ctx context.Context, batch []map[string]string) ([]string, error) {
	ids, _, err := e.EmitManyWithKey(ctx, "", batch)
	return ids, err
}

// EmitManyWithKey is EmitMany with an idempotency key covering the whole
// batch, as EmitWithKey's covers one event: a repeat with the same events
// in the same order returns the first call's EVENT_IDs with repeated set.
// An empty batch commits nothing.
func (e *Engine) EmitManyWithKey(ctx context.Context, key string, batch []map[string]string) (ids []string, repeated bool, err error) {
	if len(batch) == 0 {
		return nil, false, nil
	}
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	ctx, span := tracing.Tracer().Start(ctx, "hookd.emit", trace.WithAttributes(attribute.Int("hookd.events", len(batch))))
	defer span.End()
	it := &emitItem{evs: make([]*hook.Event, len(batch)), key: key, parent: span.SpanContext()}
	now := time.Now()
	for i, fields := range batch {
		ev, err := hook.NewEvent(fields, now, e.serverID)
		if err != nil {
			return nil, false, inBatch(len(batch), i, err)
		}
		it.evs[i] = ev
	}
	if key != "" {
		it.hash = batchHash(batch)
	}
	if err := e.emits.submit(ctx, it)[0]; err != nil {
		span.SetStatus(codes.Error, err.Error())
		return nil, false, err
	}
	if len(it.evs) == 1 {
		span.SetAttributes(attribute.String("hookd.event_id", it.evs[0].ID))
	}
	if it.heldBy != nil {
		return it.heldBy, true, nil
	}
	ids = make([]string, len(it.evs))
	for i, ev := range it.evs {
		ids[i] = ev.ID
	}
	return ids, false, nil
}

// inBatch names the event of a batch that err is about.
func inBatch(n, i int, err error) error {
	if n == 1 {
		return err
	}
	return fmt.Errorf("event %d of %d: %w", i+1, n, err)
}

// batchHash identifies a batch's fields for its idempotency key: the
// SHA-256 of the events' forms in order, NUL-separated (a form has no raw
// NUL). A batch of one hashes as its one event.
func batchHash(batch []map[string]string) string {
	var form []byte
	for i, fields := range batch {
		if i > 0 {
			form = append(form, 0)
		}
		form = hook.AppendForm(form, fields, "")
	}
	sum := sha256.Sum256(form)
	return hex.EncodeToString(sum[:])
}

// checkKey checks an idempotency key: 1 to MaxIdempotencyKey bytes of
// printable ASCII ("" means none).
func checkKey(key string) error {
	if len(key) > MaxIdempotencyKey {
		return hook.InvalidEvent("idempotency key is %d bytes long: at most %d are allowed", len(key), MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < ' ' || c > '~' {
			return hook.InvalidEvent("idempotency key: only printable ASCII is allowed")
		}
	}
	return nil
}

// keyConflict is the error of a key reused with other fields.
func keyConflict(key string, heldBy []string) error {
	if len(heldBy) == 1 {
		return fmt.Errorf("idempotency key %q was used for event %s with other fields: %w", key, heldBy[0], hook.ErrConflict)
	}
	return fmt.Errorf("idempotency key %q was used for a batch of %d events (the first %s) with other fields: %w",
		key, len(heldBy), heldBy[0], hook.ErrConflict)
}

// emitItem is one Emit or EmitMany handed to the group commit: its events,
// and its idempotency key with the hash of their fields. heldBy is set
// when the key was already claimed by events with the same fields.
type emitItem struct {
	evs       []*hook.Event
	key, hash string
	heldBy    []string
	parent    trace.SpanContext // the emit's span: its direct attempts' parent
}

// commitItems commits a group of emits in one transaction: an item whose
// key is held already is answered with the holder (same fields) or a
// conflict (other fields), and commits nothing; the others commit together.
// Their deliveries then take the direct path where there are slots.
//
// begin (see groupCommit) is called as soon as the transaction has begun:
// the items of callers that left before it are withdrawn, and not written.
// The outcome feeds readiness (health.go): a refused commit makes the node
// unready, the next good one ready again.
func (e *Engine) commitItems(ctx context.Context, items []*emitItem, begin func() []bool) []error {
	errs := make([]error, len(items))
	now := time.Now()
	var (
		em     *emission
		shared *sharedSettles
	)
	err := e.db.InTx(ctx, func(tx store.Tx) error {
		keep := begin()
		em = &emission{e: e, tx: tx, now: now, direct: true}
		for i, it := range items {
			it.heldBy = nil
			if !keep[i] {
				errs[i] = context.Canceled // its caller left: never seen
				continue
			}
			if it.key == "" {
				continue
			}
			ids := make([]string, len(it.evs))
			for j, ev := range it.evs {
				ids[j] = ev.ID
			}
			free, heldBy, hash, err := store.ClaimKey(ctx, tx, it.key, ids, it.hash, now, now.Add(-e.retention.Idempotency))
			switch {
			case err != nil:
				return err
			case free:
			case hash == it.hash:
				it.heldBy = heldBy
			default:
				errs[i] = keyConflict(it.key, heldBy)
			}
		}
		// The whole group's events in one write: one multi-row insert of
		// events and one of deliveries per group, not per request (with
		// one connection, or a round trip per statement on PostgreSQL,
		// the statements of a group are what a node's ingest waits on).
		var evs []*hook.Event
		var parents []trace.SpanContext
		for i, it := range items {
			if it.heldBy != nil || errs[i] != nil {
				continue
			}
			evs = append(evs, it.evs...)
			for range it.evs {
				parents = append(parents, it.parent)
			}
		}
		if len(evs) > 0 {
			em.parents = parents
			err := em.events(ctx, evs)
			em.parents = nil
			if err != nil {
				return err
			}
		}
		if err := em.flush(ctx); err != nil {
			return err
		}
		// The settles waiting meanwhile ride along (sharedtx.go).
		var err error
		shared, err = e.shareSettles(ctx, tx)
		return err
	})
	shared.finish(e, err)
	e.health.noteEmit(ctx, err)
	if err != nil {
		if em != nil {
			em.abandon()
		}
		return repeat(err, len(items))
	}
	em.dispatch()
	e.clock.Load().noteJobs(em.jobs)
	return errs
}

// EmitTx commits events inside tx: they and their deliveries exist if
// and only if tx commits.
func (e *Engine) EmitTx(ctx context.Context, tx store.Tx, batch ...map[string]string) ([]string, error) {
	if d := tx.Dialect(); d != e.db.Dialect() {
		return nil, fmt.Errorf("a %s transaction cannot carry events of a %s store", d, e.db.Dialect())
	}
	now := time.Now()
	evs := make([]*hook.Event, len(batch))
	ids := make([]string, len(batch))
	for i, fields := range batch {
		ev, err := hook.NewEvent(fields, now, e.serverID)
		if err != nil {
			return nil, inBatch(len(batch), i, err)
		}
		evs[i], ids[i] = ev, ev.ID
	}
	if err := e.commitEvents(ctx, tx, evs, now); err != nil {
		return nil, err
	}
	return ids, nil
}

// commitEvents writes validated events, their deliveries and jobs in tx.
func (e *Engine) commitEvents(ctx context.Context, tx store.Tx, evs []*hook.Event, now time.Time) error {
	em := emission{e: e, tx: tx, now: now}
	if err := em.events(ctx, evs); err != nil {
		return err
	}
	return em.flush(ctx)
}

// emission collects the jobs of one emitting transaction.
type emission struct {
	e     *Engine
	tx    store.Tx
	now   time.Time
	jobs  []job
	armed map[string]bool
	// keys are the order keys with a live delivery in this transaction
	// (order.go): flush arms their jobs; true also wakes a waiting one.
	keys map[orderRef]bool
	// direct: the deliveries may take the direct path, because the engine
	// commits tx itself and can dispatch them once it has. pending are
	// those that do, with a reserved slot each; queued those that wait for
	// a slot on the burst queue (memqueue.go), with a place reserved each.
	direct  bool
	pending []directItem
	queued  []queued
	parent  trace.SpanContext   // of the events being written, for their direct attempts
	parents []trace.SpanContext // per event of the write, when its events come from several emits
}

// events writes evs, their session entries and their deliveries to the
// targets that want them (only to only, if set).
func (em *emission) events(ctx context.Context, evs []*hook.Event) error {
	return em.write(ctx, evs, nil)
}

func (em *emission) write(ctx context.Context, evs []*hook.Event, only *target) error {
	if err := store.InsertEvents(ctx, em.tx, evs); err != nil {
		return err
	}
	type planned struct {
		ev     *hook.Event
		t      *target
		direct int // index in em.pending, or -1
		queued int // index in em.queued, or -1
	}
	var (
		plan []planned // plan[i] is ds[i]
		ds   []store.NewDelivery
	)
	targets := em.e.current().order // one set for the whole write
	if only != nil {
		targets = []*target{only}
	}
	for i, ev := range evs {
		parent := em.parent
		if em.parents != nil {
			parent = em.parents[i]
		}
		if only == nil && em.e.saveSessions.Load() && ev.SessionID() != "" {
			if err := store.InsertSessionEvent(ctx, em.tx, ev.SessionID(), ev.ID); err != nil {
				return err
			}
		}
		for _, t := range targets {
			if only == nil && !t.Wants(ev) {
				continue
			}
			p := planned{ev: ev, t: t, direct: -1, queued: -1}
			d := store.NewDelivery{EventID: ev.ID, Target: t.Name}
			switch {
			case t.Policy.Combine > 0:
				if err := em.arm(ctx, t); err != nil {
					return err
				}
			case t.orderedBy() != "":
				// Never the direct path: the key's job attempts it
				// after the key's earlier deliveries.
				d.Ordered, d.OrderKey = true, orderKey(t, ev)
				em.order(t.Name, d.OrderKey, false)
			case em.direct && em.e.direct.Load().reserve(t):
				// A lease instead of a job; the slot is given back by
				// dispatch or abandon.
				d.HeldUntil = em.now.Add(em.e.safetyDelay())
				p.direct = len(em.pending)
				em.pending = append(em.pending, directItem{t: t, parent: parent})
			case em.direct && em.e.direct.Load().admit(t):
				// No free slot: a lease that also covers the time on the
				// burst queue (memqueue.go), and a place there.
				q := em.e.direct.Load().q
				d.HeldUntil = em.now.Add(em.e.safetyDelay() + q.age)
				p.queued = len(em.queued)
				em.queued = append(em.queued, queued{t: t, parent: parent, deadline: em.now.Add(q.age)})
			}
			plan = append(plan, p)
			ds = append(ds, d)
		}
	}
	ids, err := store.InsertDeliveries(ctx, em.tx, ds, em.now)
	if err != nil {
		return err
	}
	for i, p := range plan {
		switch {
		case ds[i].Ordered: // its key's job moves it
		case p.direct >= 0:
			em.pending[p.direct].wk = &store.Work{ID: ids[i], Target: p.t.Name, State: hook.StatePending, Since: em.now, Event: *p.ev}
		case p.queued >= 0:
			em.queued[p.queued].id = ids[i]
			em.queued[p.queued].wk = &store.Work{ID: ids[i], Target: p.t.Name, State: hook.StatePending, Since: em.now, Event: *p.ev}
		case p.t.Policy.Combine <= 0:
			em.jobs = append(em.jobs, job{args: deliveryArgs{DeliveryID: ids[i]}})
		}
	}
	return nil
}

func (em *emission) arm(ctx context.Context, t *target) error {
	if em.armed[t.Name] {
		return nil
	}
	need, err := store.ArmBatch(ctx, em.tx, t.Name)
	if err != nil {
		return err
	}
	if em.armed == nil {
		em.armed = map[string]bool{}
	}
	em.armed[t.Name] = true
	if need {
		em.jobs = append(em.jobs, job{args: batchArgs{Target: t.Name}, at: em.now.Add(t.Policy.Combine)})
	}
	return nil
}

// flush arms the order keys noted (order.go) and inserts the jobs.
func (em *emission) flush(ctx context.Context) error {
	if err := em.armKeys(ctx); err != nil {
		return err
	}
	return em.e.q.insert(ctx, em.tx, em.jobs)
}

// dispatch starts the direct attempts once the transaction has committed,
// and queues the deliveries that wait for a slot. Should the queue have
// closed meanwhile (a stop), those get River jobs at once.
func (em *emission) dispatch() {
	for _, it := range em.pending {
		go em.e.runDirect(it)
	}
	em.pending = nil
	if len(em.queued) == 0 {
		return
	}
	dp := em.e.direct.Load()
	if left := dp.q.push(em.e, em.queued); len(left) > 0 {
		em.e.queueToRiver(dp.ctx, left)
	} else {
		dp.kick(em.e)
	}
	em.queued = nil
}

// abandon gives back the slots and queue places of a transaction that
// did not commit.
func (em *emission) abandon() {
	for _, it := range em.pending {
		em.e.direct.Load().release(it.t)
	}
	em.pending = nil
	if len(em.queued) > 0 {
		em.e.direct.Load().q.unadmit(len(em.queued))
	}
	em.queued = nil
}

// emitTo commits an event for one target only, bypassing routing: how the
// XMLMSG commands of a reply reach the command sink.
func (e *Engine) emitTo(ctx context.Context, name string, fields map[string]string) (string, error) {
	t := e.lookup(name)
	if t == nil {
		return "", fmt.Errorf("no target %q", name)
	}
	var id string
	err := e.db.InTx(ctx, func(tx store.Tx) error {
		em := emission{e: e, tx: tx, now: time.Now()}
		ev, err := hook.NewEvent(fields, em.now, e.serverID)
		if err != nil {
			return err
		}
		if err := em.write(ctx, []*hook.Event{ev}, t); err != nil {
			return err
		}
		id = ev.ID
		return em.flush(ctx)
	})
	return id, err
}

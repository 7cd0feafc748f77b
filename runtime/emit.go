package runtime

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Limits on one event, the same as the HTTP API's: an event is a handful
// of short fields, and everything from outside is size-bound.
const (
	MaxEventFields = 256
	MaxEventBytes  = 64 << 10
)

// Emit commits an event and its deliveries, and returns its EVENT_ID once
// committed. fields are the event's fields (MODULE and EVENT required;
// TIMESTAMP and SERVERID are filled in when missing; "NEW SESSION" becomes
// NEWSESSION). The map is copied, not kept.
//
// An error wrapping [hook.ErrInvalidEvent] means the fields were refused;
// one wrapping [store.ErrUnavailable] means nothing was written and the
// caller may try again.
//
// Concurrent Emit calls share transactions (group commit): on SQLite, with
// one writer, that is what lets many proxy threads emit at once.
func (rt *Runtime) Emit(ctx context.Context, fields map[string]string) (string, error) {
	ev, err := rt.newEvent(fields, time.Now())
	if err != nil {
		return "", err
	}
	if err := rt.emitter.emit(ctx, ev); err != nil {
		return "", err
	}
	return ev.ID, nil
}

// EmitMany commits several events in one transaction (all or none), which
// is much faster than one Emit each on SQLite.
func (rt *Runtime) EmitMany(ctx context.Context, batch []map[string]string) ([]string, error) {
	var ids []string
	err := rt.db.InTx(ctx, func(tx store.Tx) error {
		var err error
		ids, err = rt.emitTx(ctx, tx, batch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// EmitTx commits an event inside the caller's own transaction on the
// runtime's database (a transactional outbox): the event and its
// deliveries exist if and only if tx commits. Wrap the transaction with
// [store.SQLTx] or [store.PgxTx] to match the store's driver.
func (rt *Runtime) EmitTx(ctx context.Context, tx store.Tx, fields map[string]string) (string, error) {
	ids, err := rt.emitTx(ctx, tx, []map[string]string{fields})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (rt *Runtime) emitTx(ctx context.Context, tx store.Tx, batch []map[string]string) ([]string, error) {
	now := time.Now()
	evs := make([]*hook.Event, len(batch))
	ids := make([]string, len(batch))
	for i, fields := range batch {
		ev, err := rt.newEvent(fields, now)
		if err != nil {
			return nil, err
		}
		evs[i], ids[i] = ev, ev.ID
	}
	if err := rt.commitEvents(ctx, tx, evs, now); err != nil {
		return nil, err
	}
	return ids, nil
}

// commitEvents writes validated events, their deliveries and jobs in tx.
func (rt *Runtime) commitEvents(ctx context.Context, tx store.Tx, evs []*hook.Event, now time.Time) error {
	e := emission{rt: rt, tx: tx, now: now}
	for _, ev := range evs {
		if err := e.event(ctx, ev); err != nil {
			return err
		}
		if rt.saveSessions && ev.SessionID() != "" {
			if err := store.InsertSessionEvent(ctx, tx, ev.SessionID(), ev.ID); err != nil {
				return err
			}
		}
		for _, t := range rt.order {
			if t.Wants(ev) {
				if err := e.deliver(ctx, ev, t); err != nil {
					return err
				}
			}
		}
	}
	return e.flush(ctx)
}

// emission collects the jobs of one emitting transaction.
type emission struct {
	rt    *Runtime
	tx    store.Tx
	now   time.Time
	jobs  []job
	armed map[string]bool
}

func (e *emission) event(ctx context.Context, ev *hook.Event) error {
	return store.InsertEvent(ctx, e.tx, ev)
}

// deliver adds a delivery of ev to t: its own job, or for a combining
// target the target's batch job, armed once per transaction.
func (e *emission) deliver(ctx context.Context, ev *hook.Event, t *target) error {
	id, err := store.InsertDelivery(ctx, e.tx, ev.ID, t.Name, e.now)
	if err != nil {
		return err
	}
	if t.Policy.Combine <= 0 {
		e.jobs = append(e.jobs, job{args: deliveryArgs{DeliveryID: id}})
		return nil
	}
	return e.arm(ctx, t)
}

func (e *emission) arm(ctx context.Context, t *target) error {
	if e.armed[t.Name] {
		return nil
	}
	need, err := store.ArmBatch(ctx, e.tx, t.Name)
	if err != nil {
		return err
	}
	if e.armed == nil {
		e.armed = map[string]bool{}
	}
	e.armed[t.Name] = true
	if need {
		e.jobs = append(e.jobs, job{args: batchArgs{Target: t.Name}, at: e.now.Add(t.Policy.Combine)})
	}
	return nil
}

func (e *emission) flush(ctx context.Context) error {
	return e.rt.q.insert(ctx, e.tx, e.jobs)
}

// emitTo commits an event for one target only, bypassing routing: how the
// XMLMSG commands of a reply reach the command sink.
func (rt *Runtime) emitTo(ctx context.Context, name string, fields map[string]string) (string, error) {
	t := rt.targets[name]
	if t == nil {
		return "", fmt.Errorf("runtime: no target %q", name)
	}
	var id string
	err := rt.db.InTx(ctx, func(tx store.Tx) error {
		e := emission{rt: rt, tx: tx, now: time.Now()}
		ev, err := rt.newEvent(fields, e.now)
		if err != nil {
			return err
		}
		if err := e.event(ctx, ev); err != nil {
			return err
		}
		if err := e.deliver(ctx, ev, t); err != nil {
			return err
		}
		id = ev.ID
		return e.flush(ctx)
	})
	return id, err
}

// newEvent validates fields and builds the event to store.
func (rt *Runtime) newEvent(in map[string]string, now time.Time) (*hook.Event, error) {
	if len(in) > MaxEventFields {
		return nil, fmt.Errorf("%w: %d fields; at most %d are allowed", hook.ErrInvalidEvent, len(in), MaxEventFields)
	}
	size := 0
	for k, v := range in {
		size += len(k) + len(v)
	}
	if size > MaxEventBytes {
		return nil, fmt.Errorf("%w: fields total %d bytes; at most %d are allowed", hook.ErrInvalidEvent, size, MaxEventBytes)
	}
	for _, name := range []string{hook.FieldModule, hook.FieldEvent} {
		if in[name] == "" {
			return nil, fmt.Errorf("%w: field %s is required", hook.ErrInvalidEvent, name)
		}
	}
	if _, ok := in[hook.FieldEventID]; ok {
		return nil, fmt.Errorf("%w: field %s is assigned by hookd and must not be sent", hook.ErrInvalidEvent, hook.FieldEventID)
	}
	fields := maps.Clone(in)
	fields[hook.FieldEvent] = hook.CanonicalEventName(fields[hook.FieldEvent])
	if ts, ok := fields[hook.FieldTimestamp]; !ok || ts == "" {
		fields[hook.FieldTimestamp] = strconv.FormatInt(now.Unix(), 10)
	} else if _, err := strconv.ParseUint(ts, 10, 64); err != nil {
		return nil, fmt.Errorf("%w: field TIMESTAMP must be a unix time in seconds, got %q", hook.ErrInvalidEvent, ts)
	}
	if fields[hook.FieldServerID] == "" {
		fields[hook.FieldServerID] = rt.serverID
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("runtime: event id: %w", err)
	}
	ev := &hook.Event{ID: id.String(), Fields: fields, Created: now}
	fields[hook.FieldEventID] = ev.ID
	return ev, nil
}

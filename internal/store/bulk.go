package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
)

// The engine writes a group of events, deliveries or attempt records in one
// transaction (group commit). These functions write each group with a few
// multi-row statements instead of one statement per row: on SQLite that
// saves the per-statement cost on the one connection, on PostgreSQL a
// network round trip per row.
//
// Groups are cut into chunks of the sizes in chunkSizes (largest first), so
// that each kind of statement has only a few texts: prepared once, cached by
// the driver. Every size up to 8 has its own text, so that the small groups
// of a lightly loaded node take one statement each (with 64, 16, 4 and 1, a
// group of 3 took three single-row statements); a larger group takes at
// most one chunk per power of two.
var chunkSizes = [...]int{64, 32, 16, 8, 7, 6, 5, 4, 3, 2, 1}

// chunks calls fn with consecutive [lo, hi) ranges of n items, each of a
// size in chunkSizes.
func chunks(n int, fn func(lo, hi int) error) error {
	lo := 0
	for _, size := range chunkSizes {
		for n-lo >= size {
			if err := fn(lo, lo+size); err != nil {
				return err
			}
			lo += size
		}
	}
	return nil
}

// bulkSQL builds and caches the text of a multi-row statement: head, then
// rows copies of tuple joined by commas, then tail; with PostgreSQL's $n
// placeholders where the dialect needs them.
type bulkSQL struct {
	head, tuple, tail string
	cache             sync.Map // bulkKey → string
}

type bulkKey struct {
	d    Dialect
	rows int
}

func (b *bulkSQL) text(d Dialect, rows int) string {
	k := bulkKey{d, rows}
	if q, ok := b.cache.Load(k); ok {
		return q.(string)
	}
	var sb strings.Builder
	sb.WriteString(b.head)
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(b.tuple)
	}
	sb.WriteString(b.tail)
	q := rebind(d, sb.String())
	b.cache.Store(k, q)
	return q
}

var insertEventsSQL = &bulkSQL{head: `INSERT INTO hookd_event (id, created_at, fields) VALUES `, tuple: `(?, ?, ?)`}

// InsertEvents stores evs in tx.
func InsertEvents(ctx context.Context, tx Tx, evs []*hook.Event) error {
	return chunks(len(evs), func(lo, hi int) error {
		args := make([]any, 0, 3*(hi-lo))
		for _, ev := range evs[lo:hi] {
			fields, err := json.Marshal(ev.Fields)
			if err != nil {
				return fmt.Errorf("store: encode event: %w", err)
			}
			args = append(args, ev.ID, micros(ev.Created), clean(string(fields)))
		}
		if _, err := tx.exec(ctx, insertEventsSQL.text(tx.Dialect(), hi-lo), args...); err != nil {
			return fmt.Errorf("store: insert events: %w", err)
		}
		return nil
	})
}

// NewDelivery is a delivery for InsertDeliveries: an event to a target.
// A delivery held until a time (not zero) has no job: the emitting node
// attempts it at once, and TakeHeld gives it one if the node has not
// settled it by then. A delivery of an ordered target (Ordered) carries
// its key and has no job of its own either: its key's job attempts it
// (see ArmOrder).
type NewDelivery struct {
	EventID   string
	Target    string
	HeldUntil time.Time
	Ordered   bool   // the target is ordered_by a field: OrderKey is stored
	OrderKey  string // from OrderKey; "" is the key of a missing field
}

var insertDeliveriesSQL = &bulkSQL{
	head:  `INSERT INTO hookd_delivery (event_id, target, state, since, created_at, updated_at, next_attempt_at, held_until, order_key) VALUES `,
	tuple: `(?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
	tail:  ` RETURNING id, event_id, target`,
}

// InsertDeliveries stores ds in tx, created at now, and returns their IDs
// in the order of ds. Call it in the transaction of the events and of the
// deliveries' jobs. An event goes to a target once: (EventID, Target)
// names a delivery. IDs grow in the order of ds, which is an ordered
// key's order: insert a key's deliveries in the order of their events,
// with ArmOrder for each key.
func InsertDeliveries(ctx context.Context, tx Tx, ds []NewDelivery, now time.Time) ([]int64, error) {
	ids := make([]int64, len(ds))
	us := micros(now)
	err := chunks(len(ds), func(lo, hi int) error {
		args := make([]any, 0, 8*(hi-lo))
		at := make(map[[2]string]int, hi-lo)
		for i, d := range ds[lo:hi] {
			var held, key any
			if !d.HeldUntil.IsZero() {
				held = micros(d.HeldUntil)
			}
			if d.Ordered {
				key = d.OrderKey
			}
			args = append(args, d.EventID, d.Target, us, us, us, us, held, key)
			at[[2]string{d.EventID, d.Target}] = lo + i
		}
		rs, err := tx.query(ctx, insertDeliveriesSQL.text(tx.Dialect(), hi-lo), args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			var (
				id            int64
				event, target string
			)
			if err := rs.Scan(&id, &event, &target); err != nil {
				return err
			}
			i, ok := at[[2]string{event, target}]
			if !ok {
				return fmt.Errorf("insert returned a delivery of event %s to %s that was not inserted", event, target)
			}
			ids[i] = id
			n++
		}
		if err := rs.Err(); err != nil {
			return unavailable(err)
		}
		if n != hi-lo {
			return fmt.Errorf("inserted %d deliveries, %d returned", hi-lo, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert deliveries: %w", err)
	}
	return ids, nil
}

// Each row of VALUES in recordsSQL: id, gen, state, attempt increment,
// updated_at, next_attempt_at, status, error, summary. The casts type the
// columns for PostgreSQL (SQLite reads them as affinities); both name the
// columns of VALUES column1, column2, ….
var recordsSQL = &bulkSQL{
	head: `UPDATE hookd_delivery SET state = v.column3, attempts = attempts + v.column4, updated_at = v.column5,
		next_attempt_at = v.column6, held_until = NULL,
		last_status = CASE WHEN v.column4 = 1 THEN v.column7 ELSE last_status END, last_error = v.column8,
		last_summary = CASE WHEN v.column4 = 1 THEN v.column9 ELSE last_summary END
		FROM (VALUES `,
	tuple: `(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT))`,
	tail: `) AS v WHERE hookd_delivery.id = v.column1 AND hookd_delivery.gen = v.column2
		AND hookd_delivery.state IN ('pending', 'retrying')
		RETURNING hookd_delivery.id, hookd_delivery.attempts`,
}

var insertAttemptsSQL = &bulkSQL{
	head:  `INSERT INTO hookd_attempt (delivery_id, n, at, latency_us, status, error, response, summary) VALUES `,
	tuple: `(?, ?, ?, ?, ?, ?, ?, ?)`,
}

// RecordMany stores recs in tx, as RecordTx does each, and returns one
// error per record: hook.ErrConflict for a delivery that an operator
// replayed or discarded meanwhile (the others are stored all the same).
// The error it returns itself is the transaction's: none is stored.
func RecordMany(ctx context.Context, tx Tx, recs []Record) ([]error, error) {
	errs := make([]error, len(recs))
	now := micros(time.Now())
	// A delivery is in a group at most once, but make sure: the UPDATE
	// would apply only one of two rows of one delivery.
	seen := make(map[int64]bool, len(recs))
	var todo []int
	for i, r := range recs {
		if seen[r.ID] {
			if err := RecordTx(ctx, tx, r); err != nil {
				if !errors.Is(err, hook.ErrConflict) {
					return nil, err
				}
				errs[i] = err
			}
			continue
		}
		seen[r.ID] = true
		todo = append(todo, i)
	}
	if tx.Dialect() == Postgres {
		if err := recordManyPg(ctx, tx, recs, todo, errs, now); err != nil {
			return nil, fmt.Errorf("store: record attempts: %w", err)
		}
		return errs, nil
	}
	var attempts []any
	nAttempts := 0
	err := chunks(len(todo), func(lo, hi int) error {
		args := make([]any, 0, 9*(hi-lo))
		for _, i := range todo[lo:hi] {
			r := recs[i]
			var next any
			if !r.Outcome.NextAttempt.IsZero() {
				next = micros(r.Outcome.NextAttempt)
			}
			inc, status, summary := 0, 0, ""
			if r.Attempt != nil {
				inc, status, summary = 1, r.Attempt.Status, r.Attempt.Summary
			}
			args = append(args, r.ID, r.Gen, string(r.Outcome.State), inc, now, next, status, clean(r.Outcome.Error), clean(summary))
		}
		rs, err := tx.query(ctx, recordsSQL.text(tx.Dialect(), hi-lo), args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		n := make(map[int64]int, hi-lo)
		for rs.Next() {
			var id int64
			var attempts int
			if err := rs.Scan(&id, &attempts); err != nil {
				return err
			}
			n[id] = attempts
		}
		if err := rs.Err(); err != nil {
			return unavailable(err)
		}
		for _, i := range todo[lo:hi] {
			r := recs[i]
			attemptsNow, ok := n[r.ID]
			switch {
			case !ok:
				errs[i] = fmt.Errorf("store: delivery %d changed meanwhile: %w", r.ID, hook.ErrConflict)
			case r.Attempt != nil:
				a := r.Attempt
				attempts = append(attempts, r.ID, attemptsNow, micros(a.At), a.Latency.Microseconds(), a.Status,
					clean(a.Error), clean(a.Response), clean(a.Summary))
				nAttempts++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: record attempts: %w", err)
	}
	err = chunks(nAttempts, func(lo, hi int) error {
		_, err := tx.exec(ctx, insertAttemptsSQL.text(tx.Dialect(), hi-lo), attempts[8*lo:8*hi]...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert attempts: %w", err)
	}
	return errs, nil
}

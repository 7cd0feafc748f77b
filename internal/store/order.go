package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Order per key (a target's ordered_by): each delivery of an ordered
// target carries its key (hookd_delivery.order_key) and has no job of its
// own; the key has one (hookd_order, armed like hookd_batch), which
// attempts the key's live deliveries one at a time, oldest (lowest id)
// first. The row's epoch holds the epoch of that job: a job whose epoch
// no longer matches the row (a node that died after disarming, its job
// run again by a rescue) does nothing, so a key never has two jobs that
// work. The row is deleted when the key has nothing live, so keys that
// come and go (sessions) leave nothing behind.
//
// Arming and taking are ordered by the row's lock on PostgreSQL: ArmOrder
// holds it (an upsert) until the emitting transaction commits, and
// TakeOrder locks it before it looks for deliveries, so it either sees
// the emitted delivery or disarms before the emitter arms again and gets
// a new job. On SQLite there is one writer.

// MaxOrderKey is the longest order key stored as it is; a longer field
// value is stored as "sha256:" and its hash, so that every key fits the
// index.
const MaxOrderKey = 200

// OrderKey is the stored key of an ordered_by field's value: the value
// made storable (valid UTF-8, no NUL), or its hash when it is longer than
// MaxOrderKey. A missing field is the key "". The engine uses the result
// both in the delivery and in its key's job, so that they match.
func OrderKey(value string) string {
	if len(value) > MaxOrderKey {
		sum := sha256.Sum256([]byte(value))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return clean(value)
}

// ArmOrder notes, in tx, that the key of target has a live delivery, and
// returns the epoch of the key's job and whether the caller must insert
// that job (the key had none). It locks the key's row until tx ends.
func ArmOrder(ctx context.Context, tx Tx, target, key string) (epoch int64, need bool, err error) {
	fresh := rand.Int64N(math.MaxInt32-1) + 1 // epoch is a 32-bit INTEGER on PostgreSQL
	err = tx.queryRow(ctx, `INSERT INTO hookd_order (target, okey, epoch) VALUES (?, ?, ?)
		ON CONFLICT (target, okey) DO UPDATE SET epoch = CASE WHEN hookd_order.epoch = 0 THEN excluded.epoch ELSE hookd_order.epoch END
		RETURNING epoch`, target, key, fresh).Scan(&epoch)
	if err != nil {
		return 0, false, fmt.Errorf("store: arm order %s %q: %w", target, key, err)
	}
	return epoch, epoch == fresh, nil
}

// WakeOrder makes the key's job, when it is waiting for a later time
// (snoozed until its head's next attempt), due now: a replayed delivery
// is attempted at once, as a replay promises. A job running now may be
// about to snooze, having looked for its head before the replay: the
// key's row keeps the wake (woken = 1) until the job looks again, and
// WakeOrders wakes such a job once it has snoozed.
func WakeOrder(ctx context.Context, tx Tx, kind, target, key string) error {
	if _, err := tx.exec(ctx, `UPDATE hookd_order SET woken = 1 WHERE target = ? AND okey = ?`, target, key); err != nil {
		return fmt.Errorf("store: wake the order job of %s %q: %w", target, key, err)
	}
	q := `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'scheduled' AND kind = ? AND args->>'t' = ? AND args->>'k' = ?`
	if tx.Dialect() == SQLite {
		q = `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec')
		WHERE state = 'scheduled' AND kind = ? AND json_extract(args, '$.t') = ? AND json_extract(args, '$.k') = ?`
	}
	if _, err := tx.exec(ctx, q, kind, target, key); err != nil {
		return fmt.Errorf("store: wake the order job of %s %q: %w", target, key, err)
	}
	return nil
}

// WakeOrders makes due now the waiting jobs of kind whose key was woken
// since they last looked for their head (see WakeOrder), and returns how
// many. The engine runs it every few seconds.
func (db *DB) WakeOrders(ctx context.Context, kind string) (int64, error) {
	q := `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'scheduled' AND kind = ? AND EXISTS (SELECT 1 FROM hookd_order o
			WHERE o.woken <> 0 AND o.target = river_job.args->>'t' AND o.okey = river_job.args->>'k')`
	if db.dialect == SQLite {
		q = `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec')
		WHERE state = 'scheduled' AND kind = ? AND EXISTS (SELECT 1 FROM hookd_order o
			WHERE o.woken <> 0 AND o.target = json_extract(river_job.args, '$.t') AND o.okey = json_extract(river_job.args, '$.k'))`
	}
	n, err := db.conn().exec(ctx, q, kind)
	if err != nil {
		return 0, fmt.Errorf("store: wake order jobs: %w", err)
	}
	return n, nil
}

// OrderWork is a key's head: a live delivery with when its next attempt
// is due.
type OrderWork struct {
	Work
	Next time.Time
}

// TakeOrder returns the oldest live delivery of the key of target (nil
// when there is none, and then disarms the key: the job ends), in a
// transaction that holds the key's row. stale reports a job whose epoch
// is not the key's: it must end without doing anything.
func (db *DB) TakeOrder(ctx context.Context, target, key string, epoch int64) (head *OrderWork, stale bool, err error) {
	lock := forUpdate(db.dialect)
	err = db.InTx(ctx, func(tx Tx) error {
		head, stale = nil, false
		var have, woken int64
		switch err := tx.queryRow(ctx, `SELECT epoch, woken FROM hookd_order WHERE target = ? AND okey = ?`+lock, target, key).Scan(&have, &woken); {
		case err == hook.ErrNotFound:
			stale = true
			return nil
		case err != nil:
			return err
		case have != epoch:
			stale = true
			return nil
		case woken != 0: // it looks now: the wake is served
			if _, err := tx.exec(ctx, `UPDATE hookd_order SET woken = 0 WHERE target = ? AND okey = ?`, target, key); err != nil {
				return err
			}
		}
		var (
			w           OrderWork
			state       string
			since, evAt int64
			next        int64
			fields      string
		)
		err := tx.queryRow(ctx, `SELECT d.id, d.state, d.gen, d.attempts, d.base_attempts, d.since, d.last_error,
			COALESCE(d.next_attempt_at, 0), e.id, e.created_at, e.fields
			FROM hookd_delivery d JOIN hookd_event e ON e.id = d.event_id
			WHERE d.target = ? AND d.order_key = ? AND d.state IN ('pending', 'retrying') ORDER BY d.id LIMIT 1`, target, key).
			Scan(&w.ID, &state, &w.Gen, &w.Attempts, &w.BaseAttempts, &since, &w.LastError, &next, &w.Event.ID, &evAt, &fields)
		if err == hook.ErrNotFound {
			_, err := tx.exec(ctx, `DELETE FROM hookd_order WHERE target = ? AND okey = ?`, target, key)
			return err
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(fields), &w.Event.Fields); err != nil {
			return fmt.Errorf("decode event %s: %w", w.Event.ID, err)
		}
		w.Target, w.State, w.Since, w.Event.Created = target, hook.DeliveryState(state), fromMicros(since), fromMicros(evAt)
		if next > 0 {
			w.Next = fromMicros(next)
		}
		head = &w
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: take the head of %s %q: %w", target, key, err)
	}
	return head, stale, nil
}

var orderKeysSQL = &bulkSQL{
	head:  `SELECT id, order_key FROM hookd_delivery WHERE order_key IS NOT NULL AND id IN (`,
	tuple: `?`,
	tail:  `)`,
}

// OrderKeys returns the order keys of those of ids that have one (the
// deliveries of an ordered target), read in tx: what a replay or a resume
// arms instead of a job per delivery.
func OrderKeys(ctx context.Context, tx Tx, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	err := queryIDs(ctx, tx, orderKeysSQL, ids, func(rs rows) error {
		var (
			id  int64
			key string
		)
		if err := rs.Scan(&id, &key); err != nil {
			return err
		}
		out[id] = key
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: order keys: %w", err)
	}
	return out, nil
}

// OrderPlace is where an ordered live delivery stands in its key: the key
// and the key's head (the oldest live delivery, the one being attempted).
type OrderPlace struct {
	Key  string
	Head int64
}

var orderPlacesSQL = &bulkSQL{
	head: `SELECT d.id, d.order_key, (SELECT MIN(h.id) FROM hookd_delivery h
		WHERE h.target = d.target AND h.order_key = d.order_key AND h.state IN ('pending', 'retrying'))
		FROM hookd_delivery d WHERE d.order_key IS NOT NULL AND d.id IN (`,
	tuple: `?`,
	tail:  `)`,
}

// OrderPlaces returns the place of those of ids that are ordered: what
// says a delivery waits behind another.
func (db *DB) OrderPlaces(ctx context.Context, ids []int64) (map[int64]OrderPlace, error) {
	out := map[int64]OrderPlace{}
	err := queryIDs(ctx, db.conn(), orderPlacesSQL, ids, func(rs rows) error {
		var (
			id   int64
			p    OrderPlace
			head *int64
		)
		if err := rs.Scan(&id, &p.Key, &head); err != nil {
			return err
		}
		if head != nil {
			p.Head = *head
		}
		out[id] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: order places: %w", err)
	}
	return out, nil
}

// queryIDs runs q, whose tuples are delivery IDs, over ids in chunks, and
// calls scan for every row: the reads of OrderKeys and OrderPlaces.
func queryIDs(ctx context.Context, tx Tx, q *bulkSQL, ids []int64, scan func(rows) error) error {
	return chunks(len(ids), func(lo, hi int) error {
		args := make([]any, hi-lo)
		for i, id := range ids[lo:hi] {
			args[i] = id
		}
		rs, err := tx.query(ctx, q.text(tx.Dialect(), hi-lo), args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			if err := scan(rs); err != nil {
				return err
			}
		}
		return unavailable(rs.Err())
	})
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
)

// recordsPgSQL is RecordMany on PostgreSQL in one statement, whatever the
// number of records: the rows come as arrays (unnest), the delivery update
// and the attempt insert are one statement (a data-modifying WITH), so a
// settle group costs one round trip instead of two per chunk, and one
// statement text, prepared once per connection, instead of one per chunk
// size. The attempt's number is the delivery's attempts after the update,
// as in RecordTx.
const recordsPgSQL = `WITH v AS (
		SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::integer[], $5::bigint[],
			$6::integer[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[])
			AS v (id, gen, state, inc, next, status, err, summary, at, latency, aerr, response)
	), u AS (
		UPDATE hookd_delivery d SET state = v.state, attempts = d.attempts + v.inc, updated_at = $13,
			next_attempt_at = v.next, held_until = NULL,
			last_status = CASE WHEN v.inc = 1 THEN v.status ELSE d.last_status END, last_error = v.err,
			last_summary = CASE WHEN v.inc = 1 THEN v.summary ELSE d.last_summary END
		FROM v WHERE d.id = v.id AND d.gen = v.gen AND d.state IN ('pending', 'retrying')
		RETURNING d.id, d.attempts
	), a AS (
		INSERT INTO hookd_attempt (delivery_id, n, at, latency_us, status, error, response, summary)
		SELECT u.id, u.attempts, v.at, v.latency, v.status, v.aerr, v.response, v.summary
		FROM u JOIN v ON v.id = u.id WHERE v.inc = 1
	)
	SELECT id FROM u`

// recordManyPg stores recs[i] for each i of todo (distinct deliveries) in
// one statement on PostgreSQL; errs[i] becomes hook.ErrConflict for a
// delivery that changed meanwhile.
func recordManyPg(ctx context.Context, tx Tx, recs []Record, todo []int, errs []error, now int64) error {
	if len(todo) == 0 {
		return nil
	}
	n := len(todo)
	var (
		ids, latency, at            = make([]int64, n), make([]int64, n), make([]int64, n)
		next                        = make([]*int64, n)
		gen, inc, status            = make([]int32, n), make([]int32, n), make([]int32, n)
		state, errText, summary     = make([]string, n), make([]string, n), make([]string, n)
		attemptErr, attemptResponse = make([]string, n), make([]string, n)
	)
	for j, i := range todo {
		r := recs[i]
		ids[j], gen[j], state[j], errText[j] = r.ID, int32(r.Gen), string(r.Outcome.State), clean(r.Outcome.Error)
		if !r.Outcome.NextAttempt.IsZero() {
			us := micros(r.Outcome.NextAttempt)
			next[j] = &us
		}
		if a := r.Attempt; a != nil {
			inc[j], status[j], summary[j] = 1, int32(a.Status), clean(a.Summary)
			at[j], latency[j] = micros(a.At), a.Latency.Microseconds()
			attemptErr[j], attemptResponse[j] = clean(a.Error), clean(a.Response)
		}
	}
	rs, err := tx.query(ctx, recordsPgSQL, ids, gen, state, inc, next, status, errText, summary, at, latency,
		attemptErr, attemptResponse, now)
	if err != nil {
		return err
	}
	defer rs.Close()
	done := make(map[int64]bool, n)
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return err
		}
		done[id] = true
	}
	if err := rs.Err(); err != nil {
		return unavailable(err)
	}
	for _, i := range todo {
		if !done[recs[i].ID] {
			errs[i] = fmt.Errorf("store: delivery %d changed meanwhile: %w", recs[i].ID, hook.ErrConflict)
		}
	}
	return nil
}

// RecordGroup stores recs as [RecordMany] does, in a transaction of its
// own. On PostgreSQL, a group of distinct deliveries is one statement sent
// outside an explicit transaction (a statement is atomic by itself): one
// round trip instead of three (BEGIN, the statement, COMMIT), for the same
// one commit. The engine's settle group commit uses it when a group has
// nothing else to write.
func (db *DB) RecordGroup(ctx context.Context, recs []Record) ([]error, error) {
	if db.dialect == Postgres && distinct(recs) {
		errs := make([]error, len(recs))
		todo := make([]int, len(recs))
		for i := range todo {
			todo[i] = i
		}
		if err := recordManyPg(ctx, db.conn(), recs, todo, errs, micros(time.Now())); err != nil {
			return nil, fmt.Errorf("store: record attempts: %w", unavailable(err))
		}
		return errs, nil
	}
	var errs []error
	err := db.InTx(ctx, func(tx Tx) error {
		var err error
		errs, err = RecordMany(ctx, tx, recs)
		return err
	})
	return errs, err
}

// distinct reports whether every record is of a different delivery.
func distinct(recs []Record) bool {
	seen := make(map[int64]struct{}, len(recs))
	for _, r := range recs {
		if _, dup := seen[r.ID]; dup {
			return false
		}
		seen[r.ID] = struct{}{}
	}
	return true
}

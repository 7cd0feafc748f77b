package engine

import (
	"context"

	"github.com/hookrt/hookd/internal/store"
)

// settle is one item of the record group commit: an attempt's record
// (which ends a direct delivery's lease), and on the direct path
// (direct.go) the job that takes over.
type settle struct {
	rec     *store.Record // nil: no attempt to record
	release int64         // a delivery whose lease ends without a record
	add     *job          // a job to insert: the next attempt's, or a handover
}

// commitSettles stores a group of settles in one transaction and returns
// one error per item: hook.ErrConflict for a record of a delivery an
// operator replayed or discarded meanwhile (no job is added: the replay
// made its own), or the transaction's error for all of them.
func (e *Engine) commitSettles(ctx context.Context, items []settle) []error {
	if e.db.Dialect() == store.SQLite && e.settles != nil {
		return e.commitOffered(ctx, items) // see sharedtx.go
	}
	if recs, ok := onlyRecords(items); ok {
		errs, err := e.db.RecordGroup(ctx, recs)
		if err != nil {
			return repeat(err, len(items))
		}
		return errs
	}
	var errs []error
	err := e.db.InTx(ctx, func(tx store.Tx) error {
		var err error
		errs, err = e.writeSettles(ctx, tx, items)
		return err
	})
	if err != nil {
		return repeat(err, len(items))
	}
	return errs
}

// writeSettles writes a group of settles in tx (commitSettles, or an
// emit group's transaction on SQLite: sharedtx.go) and returns one error
// per item; an error of its own means tx must not commit.
func (e *Engine) writeSettles(ctx context.Context, tx store.Tx, items []settle) ([]error, error) {
	errs := make([]error, len(items))
	var (
		add  []job
		recs []store.Record
		at   []int // index in items of each of recs
	)
	for i, it := range items {
		if it.release != 0 {
			if err := store.ReleaseHeld(ctx, tx, it.release); err != nil {
				return nil, err
			}
		}
		if it.rec != nil {
			recs = append(recs, *it.rec)
			at = append(at, i)
		}
	}
	recErrs, err := store.RecordMany(ctx, tx, recs)
	if err != nil {
		return nil, err
	}
	for j, err := range recErrs {
		errs[at[j]] = err
	}
	for i, it := range items {
		if it.add != nil && errs[i] == nil {
			add = append(add, *it.add)
		}
	}
	if err := e.q.insert(ctx, tx, add); err != nil {
		return nil, err
	}
	return errs, nil
}

// onlyRecords returns the records of items when that is all they hold (no
// lease to release, no job to add): the group of a node whose first
// attempts succeed, which the store writes with the least it can
// (store.RecordGroup: one statement on PostgreSQL).
func onlyRecords(items []settle) ([]store.Record, bool) {
	recs := make([]store.Record, 0, len(items))
	for _, it := range items {
		if it.rec == nil || it.release != 0 || it.add != nil {
			return nil, false
		}
		recs = append(recs, *it.rec)
	}
	return recs, true
}

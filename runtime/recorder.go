package runtime

import (
	"context"
	"sync"

	"github.com/hookrt/hookd/internal/store"
)

// maxGroup bounds how many records one transaction carries.
const maxGroup = 256

// recorder writes attempt records with group commit: workers hand in their
// record and wait; one goroutine writes whatever has queued up in a single
// transaction and answers each. A worker returns (and River completes or
// snoozes its job) only after its record is committed, so the durability
// order is the same as with one transaction per attempt.
type recorder struct {
	db   *store.DB
	reqs chan recordReq
	wg   sync.WaitGroup
}

type recordReq struct {
	ctx  context.Context
	rec  store.Record
	done chan error
}

func newRecorder(db *store.DB) *recorder {
	r := &recorder{db: db, reqs: make(chan recordReq, maxGroup)}
	r.wg.Add(1)
	go r.loop()
	return r
}

// record stores rec, or returns ctx's error if ctx ends first (the record
// may then still be written, which a later attempt tolerates).
func (r *recorder) record(ctx context.Context, rec store.Record) error {
	req := recordReq{ctx: ctx, rec: rec, done: make(chan error, 1)}
	select {
	case r.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *recorder) loop() {
	defer r.wg.Done()
	batch := make([]recordReq, 0, maxGroup)
	recs := make([]store.Record, 0, maxGroup)
	for first := range r.reqs {
		batch, recs = append(batch[:0], first), append(recs[:0], first.rec)
	fill:
		for len(batch) < maxGroup {
			select {
			case req, ok := <-r.reqs:
				if !ok {
					break fill
				}
				batch, recs = append(batch, req), append(recs, req.rec)
			default:
				break fill
			}
		}
		// The write must not be cut short by one worker's context: the
		// others' records ride on the same transaction.
		errs := r.db.RecordAttempts(context.WithoutCancel(first.ctx), recs)
		for i, req := range batch {
			req.done <- errs[i]
		}
	}
}

// close stops the loop once every queued record is written. Call it only
// after the workers have stopped.
func (r *recorder) close() {
	close(r.reqs)
	r.wg.Wait()
}

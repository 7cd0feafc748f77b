package engine

import (
	"context"
	"errors"

	"github.com/hookrt/hookd/internal/store"
)

// On SQLite an emit group's transaction also writes the settles waiting
// for the settle group commit (attempt records, released leases, the jobs
// that take over), so that one COMMIT carries both.
//
// Why: SQLite has one connection, so the two group commits alternate on
// it anyway, and both write the right edge of the same tables and indexes
// (new deliveries are appended; settles update the recent ones). As two
// transactions, most of those pages are written to the WAL twice; the
// WAL writes of Tx.Commit were the largest single cost of a delivery's
// CPU. PostgreSQL keeps its two kinds of transaction apart: there they run
// concurrently on different connections.
//
// What an emit transaction takes, just before it commits: the batch the
// settle group is waiting to write (offered by commitSettles while it
// waits for the connection) and the settles still queued. They are written
// with the settle group's own code (writeSettles), and get what a settle
// group would have given them: per-item errors when the transaction
// commits, its error for all of them when it fails (the emits' callers get
// that error too, as for any failed emit group). The settle group whose
// batch was taken finds so once it has the connection, rolls its empty
// transaction back and answers its callers with the emit's result; queued
// settles are answered directly. Their jobs are noted on the retry clock
// once committed, as commitSettleGroup does. The settle group never calls
// begin, so its callers may leave at any time here too.
//
// Stop: Close ends the emit group commit before the settle group commit;
// taking never blocks, and an emit transaction answers what it took as
// soon as it ends, so neither group waits on the other's loop.

// offered is a batch a group's commit waits to write, which another
// transaction may take instead (take) until the commit claims it.
type offered[T any] struct {
	items   []T
	taken   bool
	claimed bool
	errs    []error       // the taker's answer, set before done closes
	done    chan struct{} // closed when a taker has answered
}

// offer publishes items as the batch the commit is about to write.
func (g *groupCommit[T]) offer(items []T) *offered[T] {
	o := &offered[T]{items: items, done: make(chan struct{})}
	g.smu.Lock()
	g.offered = o
	g.smu.Unlock()
	return o
}

// claim reports whether the commit is to write o itself; false means
// another transaction took it, and o.done gives its answer.
func (g *groupCommit[T]) claim(o *offered[T]) bool {
	g.smu.Lock()
	defer g.smu.Unlock()
	if g.offered == o {
		g.offered = nil
	}
	o.claimed = !o.taken
	return o.claimed
}

// take removes the offered batch, if not claimed, and the requests
// waiting in the queue (up to max items in all) without blocking; answer
// must then give them their errors. Requests whose callers left are
// dropped. Only for a commit that never calls begin: a taken request is
// not bound, and its caller may leave like a caller of such a group.
func (g *groupCommit[T]) take(max int) (*offered[T], []*groupReq[T], []T) {
	var (
		reqs  []*groupReq[T]
		items []T
	)
	g.smu.Lock()
	defer g.smu.Unlock()
	o := g.offered
	if o != nil {
		g.offered = nil
		o.taken = true
		items = append(items, o.items...)
	}
	for len(items) < max {
		select {
		case req, ok := <-g.reqs:
			if !ok {
				return o, reqs, items
			}
			if req.state == reqLeft {
				continue
			}
			reqs, items = append(reqs, req), append(items, req.items...)
		default:
			return o, reqs, items
		}
	}
	return o, reqs, items
}

// errTaken rolls back a settle group's transaction whose batch an emit
// transaction took.
var errTaken = errors.New("engine: settles taken by an emit transaction")

// sharedSettles is the settles an emit group's transaction took.
type sharedSettles struct {
	offered *offered[settle]
	reqs    []*groupReq[settle]
	items   []settle
	errs    []error
}

// shareSettles takes the waiting settles, if the store is SQLite, and
// writes them in tx. It returns nil when there were none; an error means
// tx must not commit (the settles are then answered by finish).
func (e *Engine) shareSettles(ctx context.Context, tx store.Tx) (*sharedSettles, error) {
	if e.db.Dialect() != store.SQLite || e.settles == nil {
		return nil, nil
	}
	o, reqs, items := e.settles.take(maxGroup)
	if len(items) == 0 && o == nil {
		return nil, nil
	}
	s := &sharedSettles{offered: o, reqs: reqs, items: items}
	var err error
	s.errs, err = e.writeSettles(ctx, tx, items)
	return s, err
}

// finish answers the taken settles once their transaction has ended with
// err, and notes their committed jobs on the retry clock.
func (s *sharedSettles) finish(e *Engine, err error) {
	if s == nil {
		return
	}
	errs := s.errs
	if err != nil {
		errs = repeat(err, len(s.items))
	}
	if o := s.offered; o != nil {
		// commitSettleGroup answers the offered batch, and notes its jobs.
		o.errs, errs = errs[:len(o.items):len(o.items)], errs[len(o.items):]
		close(o.done)
	}
	n := 0
	for _, req := range s.reqs {
		for j, it := range req.items {
			if it.add != nil && errs[n+j] == nil {
				e.clock.Load().note(it.add.at)
			}
		}
		n += len(req.items)
	}
	e.settles.answer(s.reqs, errs)
}

// commitOffered is commitSettles on SQLite: it offers its batch to the
// emit transactions while it waits for the connection (see above), and
// writes it only if none took it.
func (e *Engine) commitOffered(ctx context.Context, items []settle) []error {
	o := e.settles.offer(items)
	var errs []error
	err := e.db.InTx(ctx, func(tx store.Tx) error {
		if !e.settles.claim(o) {
			return errTaken
		}
		var err error
		errs, err = e.writeSettles(ctx, tx, items)
		return err
	})
	if err != nil && (errors.Is(err, errTaken) || !e.settles.claim(o)) {
		<-o.done
		return o.errs
	}
	if err != nil {
		return repeat(err, len(items))
	}
	return errs
}

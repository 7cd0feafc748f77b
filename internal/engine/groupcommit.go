package engine

import (
	"context"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
)

// groupCommit commits concurrent submissions in shared transactions:
// callers hand in their items and wait; one goroutine commits whatever has
// queued up (up to max items) with one call of commit, and answers each
// caller with the errors of its own items.
//
// It is how a single SQLite writer keeps up with many callers: the cost of
// a commit (the WAL write and sync) is paid once per group, not per item.
// The durability order is the same as with one transaction per item: a
// caller returns only after its items are committed (or failed). Emits and
// attempt records both go through one.
//
// Every caller honours its context, so that one stuck transaction cannot
// hang the process (on SQLite, a transaction the embedding program holds
// on the store's one connection blocks every group behind it):
//
//   - A caller whose context ends while its items wait, queued or in a
//     group whose transaction has not begun, leaves with the context's
//     error, and its items are withdrawn: a commit that calls begin leaves
//     them out, so the error means nothing of them was written.
//   - When every caller of a group has left, the group's context is
//     cancelled: its wait for the connection (or BEGIN) ends, and the loop
//     goes on to the next group.
//   - Once commit calls begin (its transaction has begun), the callers
//     still waiting are bound to its answer and wait for it whatever their
//     context, because they must learn whether their items were committed;
//     a begun transaction holds its connection and finishes on its own.
//
// A commit that never calls begin (the attempt records) lets its callers
// leave at any time; their items may then be committed or not, which a
// caller that left must not rely on either way.
type groupCommit[T any] struct {
	commit func(ctx context.Context, items []T, begin func() []bool) []error
	max    int
	reqs   chan *groupReq[T]
	wg     sync.WaitGroup
	// onStall, if set, is called once for a group whose transaction has
	// not begun stallAfter after the loop took it up.
	onStall func(waited time.Duration)

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool

	// aborted ends when a close runs out of time: groups that have not
	// begun stop waiting, and their callers get hook.ErrClosed.
	aborted context.Context
	abort   context.CancelFunc

	smu sync.Mutex // guards the state of requests and groups

	offered *offered[T] // guarded by smu: see offer (sharedtx.go)
}

// stallAfter is how long a group waits for its transaction before
// onStall says so.
const stallAfter = 5 * time.Second

type reqState int8

const (
	reqWaiting reqState = iota // may still leave
	reqLeft                    // its caller left; its items are withdrawn
	reqBound                   // its group began, or answered: the caller waits for done
)

type groupReq[T any] struct {
	ctx   context.Context
	items []T
	done  chan []error
	state reqState // guarded by smu
	grp   *group   // guarded by smu; nil while queued
}

// group is the state of one commit call, shared with its callers.
type group struct {
	waiting int // callers that have not left
	begun   bool
	cancel  context.CancelFunc
}

// newGroupCommit starts the loop. commit must return one error per item
// (the same error for all when the transaction as a whole failed); it
// should call begin once its transaction has begun, and skip the items
// begin reports false for (see groupCommit).
func newGroupCommit[T any](max int, commit func(ctx context.Context, items []T, begin func() []bool) []error, onStall func(time.Duration)) *groupCommit[T] {
	g := &groupCommit[T]{commit: commit, max: max, reqs: make(chan *groupReq[T], max), onStall: onStall}
	g.aborted, g.abort = context.WithCancel(context.Background())
	g.wg.Add(1)
	go g.loop()
	return g
}

// submit hands items in and returns their errors: ctx's error for all of
// them if ctx ends before their transaction begins (nothing of them is
// written), else the commit's answer (see groupCommit).
func (g *groupCommit[T]) submit(ctx context.Context, items ...T) []error {
	req := &groupReq[T]{ctx: ctx, items: items, done: make(chan []error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return repeat(hook.ErrClosed, len(items))
	}
	select {
	case g.reqs <- req:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return repeat(ctx.Err(), len(items))
	}
	select {
	case errs := <-req.done:
		return errs
	case <-ctx.Done():
	}
	if g.leave(req) {
		return repeat(ctx.Err(), len(items))
	}
	return <-req.done
}

// leave withdraws req if its transaction has not begun, and cancels its
// group's wait when it was the last caller in it.
func (g *groupCommit[T]) leave(req *groupReq[T]) bool {
	g.smu.Lock()
	defer g.smu.Unlock()
	if req.state != reqWaiting {
		return false
	}
	req.state = reqLeft
	if gr := req.grp; gr != nil {
		gr.waiting--
		if gr.waiting == 0 && !gr.begun {
			gr.cancel()
		}
	}
	return true
}

func (g *groupCommit[T]) loop() {
	defer g.wg.Done()
	var (
		batch []*groupReq[T]
		items []T
	)
	for first := range g.reqs {
		in := append(batch[:0], first)
		n := len(first.items)
	fill:
		for n < g.max {
			select {
			case req, ok := <-g.reqs:
				if !ok {
					break fill
				}
				in, n = append(in, req), n+len(req.items)
			default:
				break fill
			}
		}
		ctx, cancel := context.WithCancel(context.WithoutCancel(first.ctx))
		gr := &group{cancel: cancel}
		stopAbort := context.AfterFunc(g.aborted, func() {
			g.smu.Lock()
			defer g.smu.Unlock()
			if !gr.begun {
				cancel()
			}
		})
		batch, items = in[:0], items[:0]
		g.smu.Lock()
		for _, req := range in {
			if req.state == reqLeft {
				continue
			}
			req.grp = gr
			gr.waiting++
			batch, items = append(batch, req), append(items, req.items...)
		}
		g.smu.Unlock()
		if len(batch) == 0 {
			stopAbort()
			cancel()
			continue
		}
		g.run(ctx, gr, batch, items)
		stopAbort()
		cancel()
	}
}

// run commits one group and answers its callers.
func (g *groupCommit[T]) run(ctx context.Context, gr *group, batch []*groupReq[T], items []T) {
	begin := func() []bool {
		g.smu.Lock()
		defer g.smu.Unlock()
		gr.begun = true
		keep := make([]bool, 0, len(items))
		for _, req := range batch {
			k := req.state == reqWaiting
			if k {
				req.state = reqBound
			}
			for range req.items {
				keep = append(keep, k)
			}
		}
		return keep
	}
	if g.onStall != nil {
		start := time.Now()
		t := time.AfterFunc(stallAfter, func() {
			g.smu.Lock()
			stalled := !gr.begun && gr.waiting > 0
			g.smu.Unlock()
			if stalled {
				g.onStall(time.Since(start))
			}
		})
		defer t.Stop()
	}
	errs := g.commit(ctx, items, begin)
	g.smu.Lock()
	aborted := !gr.begun && g.aborted.Err() != nil
	g.smu.Unlock()
	if aborted {
		errs = repeat(hook.ErrClosed, len(items))
	}
	g.answer(batch, errs)
}

// answer gives each request of batch its part of errs (one per item, in
// order), but for those whose callers left.
func (g *groupCommit[T]) answer(batch []*groupReq[T], errs []error) {
	g.smu.Lock()
	defer g.smu.Unlock()
	for _, req := range batch {
		mine := errs[:len(req.items):len(req.items)]
		errs = errs[len(req.items):]
		if req.state == reqLeft {
			continue
		}
		req.state = reqBound
		req.done <- mine
	}
}

// close stops the loop once everything handed in is committed. If ctx
// ends first, what has not begun its transaction is answered with
// hook.ErrClosed instead (a begun transaction still finishes), so that a
// transaction the program holds on SQLite's one connection cannot keep
// Close from returning.
func (g *groupCommit[T]) close(ctx context.Context) {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.reqs)
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		g.abort()
		<-done
	}
	g.abort()
}

// repeat returns n copies of err.
func repeat(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

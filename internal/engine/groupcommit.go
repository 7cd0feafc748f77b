package engine

import (
	"context"
	"sync"

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
type groupCommit[T any] struct {
	commit func(ctx context.Context, items []T) []error
	max    int
	reqs   chan groupReq[T]
	wg     sync.WaitGroup

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
}

type groupReq[T any] struct {
	ctx   context.Context
	items []T
	done  chan []error
}

// newGroupCommit starts the loop. commit must return one error per item
// (the same error for all when the transaction as a whole failed).
func newGroupCommit[T any](max int, commit func(ctx context.Context, items []T) []error) *groupCommit[T] {
	g := &groupCommit[T]{commit: commit, max: max, reqs: make(chan groupReq[T], max)}
	g.wg.Add(1)
	go g.loop()
	return g
}

// submit hands items in and returns their errors. If ctx ends before the
// items are handed in, every error is ctx's; once handed in, submit waits
// for the answer even if ctx ends, because the caller must learn whether
// its items were committed.
func (g *groupCommit[T]) submit(ctx context.Context, items ...T) []error {
	req := groupReq[T]{ctx: ctx, items: items, done: make(chan []error, 1)}
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
	return <-req.done
}

func (g *groupCommit[T]) loop() {
	defer g.wg.Done()
	var (
		batch []groupReq[T]
		items []T
	)
	for first := range g.reqs {
		batch, items = append(batch[:0], first), append(items[:0], first.items...)
	fill:
		for len(items) < g.max {
			select {
			case req, ok := <-g.reqs:
				if !ok {
					break fill
				}
				batch, items = append(batch, req), append(items, req.items...)
			default:
				break fill
			}
		}
		// The commit must not be cut short by one caller's context: the
		// others' items ride on the same transaction.
		errs := g.commit(context.WithoutCancel(first.ctx), items)
		for _, req := range batch {
			req.done <- errs[:len(req.items):len(req.items)]
			errs = errs[len(req.items):]
		}
	}
}

// close stops the loop once everything handed in is committed.
func (g *groupCommit[T]) close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	close(g.reqs)
	g.mu.Unlock()
	g.wg.Wait()
}

// repeat returns n copies of err.
func repeat(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

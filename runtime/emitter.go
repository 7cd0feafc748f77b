package runtime

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// maxEmitGroup bounds how many events one group-commit transaction carries.
const maxEmitGroup = 256

// emitter commits concurrent Emit calls together: callers hand in their
// validated event and wait; one goroutine writes whatever has queued up in
// a single transaction and answers each. Every caller still returns only
// after its event is committed; a failed transaction fails every caller in
// it, and none of their events is written.
type emitter struct {
	rt   *Runtime
	reqs chan emitReq
	wg   sync.WaitGroup

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
}

// ErrClosed is returned by Emit after Close.
var ErrClosed = errors.New("runtime: closed")

type emitReq struct {
	ctx  context.Context
	ev   *hook.Event
	done chan error
}

func newEmitter(rt *Runtime) *emitter {
	e := &emitter{rt: rt, reqs: make(chan emitReq, maxEmitGroup)}
	e.wg.Add(1)
	go e.loop()
	return e
}

func (e *emitter) emit(ctx context.Context, ev *hook.Event) error {
	req := emitReq{ctx: ctx, ev: ev, done: make(chan error, 1)}
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return ErrClosed
	}
	select {
	case e.reqs <- req:
		e.mu.RUnlock()
	case <-ctx.Done():
		e.mu.RUnlock()
		return ctx.Err()
	}
	// Once handed in, wait for the answer even if ctx ends: the caller
	// must learn whether its event was committed.
	return <-req.done
}

func (e *emitter) loop() {
	defer e.wg.Done()
	batch := make([]emitReq, 0, maxEmitGroup)
	evs := make([]*hook.Event, 0, maxEmitGroup)
	for first := range e.reqs {
		batch, evs = append(batch[:0], first), append(evs[:0], first.ev)
	fill:
		for len(batch) < maxEmitGroup {
			select {
			case req, ok := <-e.reqs:
				if !ok {
					break fill
				}
				batch, evs = append(batch, req), append(evs, req.ev)
			default:
				break fill
			}
		}
		ctx := context.WithoutCancel(first.ctx)
		err := e.rt.db.InTx(ctx, func(tx store.Tx) error { return e.rt.commitEvents(ctx, tx, evs, time.Now()) })
		for _, req := range batch {
			req.done <- err
		}
	}
}

// close stops the loop once every queued event is written.
func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	close(e.reqs)
	e.mu.Unlock()
	e.wg.Wait()
}

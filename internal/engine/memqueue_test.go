package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The burst queue (memqueue.go): deliveries emitted beyond the direct
// path's free slots wait in memory, leased, and are attempted as slots
// free, without River jobs; what waits past the queue's age bound, or is
// still queued at stop, gets a River job, and nothing is attempted twice.

// calls counts a handler's calls per event; block holds the calls of
// events with BLOCK=1 until it is closed.
type calls struct {
	mu    sync.Mutex
	n     map[string]int
	block chan struct{}
	held  chan struct{}
}

func newCalls() *calls {
	return &calls{n: map[string]int{}, block: make(chan struct{}), held: make(chan struct{}, 100)}
}

func (c *calls) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	c.mu.Lock()
	c.n[ev.ID]++
	c.mu.Unlock()
	if ev.Get("BLOCK") == "1" {
		c.held <- struct{}{}
		select {
		case <-c.block:
		case <-ctx.Done():
			return hook.Result{}, ctx.Err()
		}
	}
	return hook.Result{}, nil
}

// once checks that each of ids was attempted exactly once.
func (c *calls) once(t *testing.T, ids []string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if c.n[id] != 1 {
			t.Errorf("event %s attempted %d times; want once", id, c.n[id])
		}
	}
}

// queueOpts: 4 slots, so one target has 2 in flight at most (half).
func queueOpts() engine.DeliveryOptions {
	d := fast()
	d.Workers = 4
	return d
}

// emitBurst emits n events in one batch, with extra fields, and returns their IDs.
func emitBurst(t *testing.T, e *engine.Engine, n int, extra map[string]string) []string {
	t.Helper()
	batch := make([]map[string]string, n)
	for i := range batch {
		batch[i] = map[string]string{"MODULE": "TEST", "EVENT": "E", "N": fmt.Sprint(i)}
		for k, v := range extra {
			batch[i][k] = v
		}
	}
	ids, err := e.EmitMany(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// count runs a SELECT count(*) on e's store.
func count(t *testing.T, e *engine.Engine, q string) int {
	t.Helper()
	var n int
	var err error
	if pool := e.DB().Pool(); pool != nil {
		err = pool.QueryRow(context.Background(), q).Scan(&n)
	} else {
		err = e.DB().SQL().QueryRowContext(context.Background(), q).Scan(&n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const deliveryJobs = `SELECT count(*) FROM river_job WHERE kind = 'hookd_delivery'`

// TestBurstFromMemory: bursts of 20 deliveries to one target that may
// have 2 in flight are all attempted from memory as slots free, once
// each, and no River job is made for any of them (before the queue, 18 of
// each burst got a job).
func TestBurstFromMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		c := newCalls()
		obs := hooktest.NewObservations()
		e := open(t, st, queueOpts(), obs, hook.Target{Name: "a", Handler: c})
		var ids []string
		for round := 1; round <= 5; round++ {
			ids = append(ids, emitBurst(t, e, 20, nil)...)
			obs.Wait(t, fmt.Sprintf("burst %d delivered", round), func(o []hook.Observation) bool {
				return hooktest.Count(o, hook.StateDelivered, "a") >= 20*round
			})
		}
		checkOutcomes(t, len(ids), obs.Seen())
		c.once(t, ids)
		if n := count(t, e, deliveryJobs); n != 0 {
			t.Errorf("%d River jobs made; want none: every delivery waits for a slot in memory", n)
		}
	})
}

// TestBurstReadBack: beyond the part kept in memory, queued deliveries are
// kept as their ID and read back when a slot takes them: still attempted
// once each, without River jobs.
func TestBurstReadBack(t *testing.T) {
	c := newCalls()
	obs := hooktest.NewObservations()
	e := open(t, storetest.SQLite(t), queueOpts(), obs, hook.Target{Name: "a", Handler: c})
	engine.SetQueueBounds(e, 2, 10*time.Second)
	blocked := emitBurst(t, e, 2, map[string]string{"BLOCK": "1"}) // the target's two slots
	for range 2 {
		<-c.held
	}
	ids := emitBurst(t, e, 30, nil) // queued: 2 with their event, 28 as IDs
	close(c.block)
	obs.Wait(t, "every delivery delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") >= 32
	})
	checkOutcomes(t, 32, obs.Seen())
	c.once(t, append(blocked, ids...))
	if n := count(t, e, deliveryJobs); n != 0 {
		t.Errorf("%d River jobs made; want none", n)
	}
}

// TestBurstAgedToRiver: deliveries that wait on the queue past its age
// bound (their target's slots are held) are not attempted from memory:
// each gets one River job, and once the target is free each is attempted
// exactly once, by its job.
func TestBurstAgedToRiver(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		c := newCalls()
		obs := hooktest.NewObservations()
		e := open(t, st, queueOpts(), obs, hook.Target{Name: "a", Handler: c})
		engine.SetQueueBounds(e, 100, 50*time.Millisecond)
		blocked := emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
		for range 2 {
			<-c.held
		}
		ids := emitBurst(t, e, 5, nil)
		waitCond(t, "the 5 queued deliveries to get River jobs", func() bool { return count(t, e, deliveryJobs) == 5 })
		if n := count(t, e, `SELECT count(*) FROM hookd_delivery WHERE held_until IS NOT NULL`); n != 2 {
			t.Errorf("%d deliveries leased; want the 2 in flight (the handover ends the queued ones' leases)", n)
		}
		close(c.block)
		obs.Wait(t, "every delivery delivered", func(o []hook.Observation) bool {
			return hooktest.Count(o, hook.StateDelivered, "a") >= 7
		})
		checkOutcomes(t, 7, obs.Seen())
		c.once(t, append(blocked, ids...))
		if n := count(t, e, deliveryJobs); n != 5 {
			t.Errorf("%d River jobs; want 5, one per aged delivery", n)
		}
	})
}

// TestBurstStop: deliveries still queued when the engine stops are given
// River jobs at the stop (their leases ended), before the attempts in
// flight finish; a restart delivers each of them once.
func TestBurstStop(t *testing.T) {
	st := storetest.SQLite(t)
	c := newCalls()
	obs := hooktest.NewObservations()
	e, err := engine.Open(context.Background(), engine.Options{
		Store:    engine.StoreOptions{Driver: st.Driver, Path: st.Path},
		Delivery: queueOpts(), ServerID: "test", Observer: obs.Observe,
		Targets: []hook.Target{{Name: "a", Handler: c}},
	})
	if err != nil {
		t.Fatal(err)
	}
	blocked := emitBurst(t, e, 2, map[string]string{"BLOCK": "1"})
	for range 2 {
		<-c.held
	}
	ids := emitBurst(t, e, 5, nil)
	closed := make(chan error, 1)
	go func() { closed <- e.Close(context.Background()) }()
	waitCond(t, "the queued deliveries to get River jobs at the stop", func() bool { return count(t, e, deliveryJobs) == 5 })
	if n := count(t, e, `SELECT count(*) FROM hookd_delivery WHERE held_until IS NOT NULL`); n != 2 {
		t.Errorf("%d deliveries leased during the stop; want the 2 in flight", n)
	}
	close(c.block)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	c.once(t, blocked)
	c.mu.Lock()
	for _, id := range ids {
		if c.n[id] != 0 {
			t.Errorf("queued event %s attempted before the stop; want it left to its job", id)
		}
	}
	c.mu.Unlock()

	obs2 := hooktest.NewObservations()
	e2 := open(t, st, queueOpts(), obs2, hook.Target{Name: "a", Handler: c})
	_ = e2
	obs2.Wait(t, "the queued deliveries delivered after the restart", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, "a") >= 5
	})
	checkOutcomes(t, 5, obs2.Seen())
	c.once(t, append(blocked, ids...))
}

// TestBurstRateLimitedNotQueued: a rate-limited target does not use the
// queue: what finds no free slot gets a River job at once, as before, and
// the limit schedules it.
func TestBurstRateLimitedNotQueued(t *testing.T) {
	c := newCalls()
	obs := hooktest.NewObservations()
	e := open(t, storetest.SQLite(t), queueOpts(), obs,
		hook.Target{Name: "limited", Handler: c, Delivery: &hook.DeliverySettings{RateLimit: 1000}})
	ids := emitBurst(t, e, 20, nil)
	checkWaitedNeverFailed(t, 20, obs)
	c.once(t, ids)
	if n := count(t, e, deliveryJobs); n != 18 {
		t.Errorf("%d River jobs; want 18 (2 direct attempts, the target's slots; no queue)", n)
	}
}

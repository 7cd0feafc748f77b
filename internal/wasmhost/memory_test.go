package wasmhost

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
)

// TestMemoryGrowsToTheLimit: a guest growing one page at a time reaches
// exactly memory_pages, on reserved memory and on wazero's default alike;
// a declared maximum over memory_pages (1000 pages here) is lowered, not
// refused.
func TestMemoryGrowsToTheLimit(t *testing.T) {
	t.Parallel()
	for _, heap := range []bool{false, true} {
		e := newEngine(t)
		e.heapMemory = heap
		for _, pages := range []uint32{48, 256} {
			p := load(t, e, "grow", Limits{MemoryPages: pages, Instances: 1}, hostfn.Grants{})
			for call := range 2 { // the second call finds the memory grown
				out, err := p.Call(context.Background(), event("x"))
				if err != nil || out.Status != int32(pages) {
					t.Errorf("heap=%v, %d pages, call %d: status %d, %v; want %d", heap, pages, call+1, out.Status, err, pages)
				}
			}
		}
	}
}

// TestMemoryLimitStillTraps: membomb traps at its limit on reserved
// memory, reported as the memory limit, and its instance is replaced.
func TestMemoryLimitStillTraps(t *testing.T) {
	t.Parallel()
	p := load(t, newEngine(t), "membomb", Limits{MemoryPages: 20, Instances: 1}, hostfn.Grants{})
	for range 3 {
		if _, err := p.Call(context.Background(), event("x")); !errors.Is(err, ErrMemoryLimit) {
			t.Fatalf("err = %v, want ErrMemoryLimit", err)
		}
	}
}

// TestLinearMemory: the reservation's rules, on both backings: lengths up
// to the maximum, nil past it, zeroed pages, and a Free that comes while a
// call uses the memory released only when the call is over.
func TestLinearMemory(t *testing.T) {
	t.Parallel()
	const max = 8 << 16
	for _, name := range []string{"mapped", "heap"} {
		a := &instanceMemory{}
		var m *linearMemory
		if name == "heap" {
			m = &linearMemory{users: 1, max: max}
			a.mem = m
		} else if m = a.Allocate(1<<16, max).(*linearMemory); !m.mapped {
			t.Skip("no anonymous mappings here")
		}
		if b := m.Reallocate(1 << 16); len(b) != 1<<16 {
			t.Fatalf("%s: len %d", name, len(b))
		}
		b := m.Reallocate(max)
		if len(b) != max || b[max-1] != 0 {
			t.Fatalf("%s: grown to %d", name, len(b))
		}
		b[max-1] = 7
		if m.Reallocate(max+1) != nil {
			t.Errorf("%s: grew past the maximum", name)
		}
		if got := m.Reallocate(max); got[max-1] != 7 {
			t.Errorf("%s: contents lost", name)
		}
		a.exit() // the instantiation is over
		if !a.enter() {
			t.Fatalf("%s: a call could not enter", name)
		}
		m.Free() // the module closed under the call
		if m.released {
			t.Errorf("%s: released while a call uses it", name)
		}
		if a.enter() {
			t.Errorf("%s: a call entered freed memory", name)
		}
		a.exit()
		if !m.released || m.buf != nil {
			t.Errorf("%s: not released after the last call", name)
		}
		m.Free() // wazero frees once, but twice must not unmap twice
	}
}

// TestCloseUnderCallsWithReservedMemory: closing the engine while guests
// loop frees their memory only once they stopped (an unmap under a running
// guest would crash the process); the calls fail, nothing faults.
func TestCloseUnderCallsWithReservedMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := NewEngine(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Load(ctx, fixture("loop"), Limits{Timeout: testTimeout, Instances: 2, Concurrency: 2}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := p.Call(ctx, event("x"))
			errs <- err
		}()
	}
	waitFor(t, "both calls to run", func() bool { return p.Idle() == 0 })
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	stops(t, "Close under running calls", func() { err = e.Close(cctx) })
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a call stopped by Close succeeded")
		}
	}
}

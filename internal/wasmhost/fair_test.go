package wasmhost

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
)

// clock is a test's time: it moves only when the test says.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestBreakerRule: the breaker's rule, step by step, on a gate of its own
// with a test clock: 3 deadlines in a row open it; calls are refused during
// the cool-down; then one probe runs (others still refused); a probe that
// runs out opens it for twice as long; one that ends by itself closes it.
func TestBreakerRule(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	g := newGate(2)
	g.now = clk.Now
	ctx := context.Background()
	call := func(o outcome) error {
		tk, err := g.admit(ctx, time.Second)
		if err != nil {
			return err
		}
		tk.done(o)
		return nil
	}
	for i := range breakerThreshold {
		if err := call(ranOut); err != nil {
			t.Fatalf("deadline %d refused: %v", i+1, err)
		}
	}
	err := call(ended)
	if !errors.Is(err, ErrBackedOff) || !strings.Contains(err.Error(), "tried again in 1s") {
		t.Fatalf("after %d deadlines: %v, want ErrBackedOff for 1s", breakerThreshold, err)
	}
	if open, n := g.state(); !open || n != 1 {
		t.Errorf("state %v %d", open, n)
	}
	clk.Add(breakerCooldown)
	probe, err := g.admit(ctx, time.Second)
	if err != nil {
		t.Fatalf("after the cool-down: %v, want the probe admitted", err)
	}
	if err := call(ended); !errors.Is(err, ErrBackedOff) {
		t.Errorf("a second call during the probe: %v, want ErrBackedOff", err)
	}
	probe.done(ranOut)
	clk.Add(breakerCooldown) // half of the doubled cool-down
	if err := call(ended); !errors.Is(err, ErrBackedOff) || !strings.Contains(err.Error(), "tried again in 1s") {
		t.Errorf("after a probe ran out: %v, want a 2s cool-down", err)
	}
	clk.Add(breakerCooldown)
	if err := call(ended); err != nil { // the probe, ending by itself
		t.Fatalf("second probe: %v", err)
	}
	for i := range 2 * breakerThreshold {
		if err := call(ended); err != nil {
			t.Fatalf("call %d after a good probe: %v", i, err)
		}
	}
	// The cool-down doubles up to its maximum, and a reset forgets it.
	for range 10 {
		g.record(ranOut, true)
	}
	if g.cooldown != breakerMaxCooldown {
		t.Errorf("cool-down %s, want capped at %s", g.cooldown, breakerMaxCooldown)
	}
	g.reset()
	if err := call(ended); err != nil || g.cooldown != breakerCooldown {
		t.Errorf("after reset: %v, cool-down %s", err, g.cooldown)
	}
	// Deadlines interleaved with calls that end by themselves never open it.
	for range 10 {
		_ = call(ranOut)
		_ = call(ranOut)
		_ = call(ended)
	}
	if open, _ := g.state(); open {
		t.Error("2 deadlines in a row opened the breaker")
	}
	// Calls that did not run (neutral) neither open nor close it.
	for range 10 {
		_ = call(neutral)
	}
	if g.streak != 0 {
		t.Errorf("streak %d after neutral calls", g.streak)
	}
}

// TestBreakerBacksOffALoopingPlugin: a real looping guest is backed off
// after 3 deadlines: the 4th call is refused at once without running; a
// reload to a new version closes the breaker.
func TestBreakerBacksOffALoopingPlugin(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, "loop", path)
	p, err := e.Load(context.Background(), path, Limits{Timeout: 20 * time.Millisecond, Instances: 1}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	clk := &clock{now: time.Now()}
	p.gate.now = clk.Now // the cool-down ends when the test says
	for i := range breakerThreshold {
		var err error
		stops(t, "a loop past its 20ms deadline", func() { _, err = p.Call(context.Background(), event("x")) })
		if !errors.Is(err, ErrDeadline) {
			t.Fatalf("call %d: %v, want ErrDeadline", i+1, err)
		}
	}
	waitFor(t, "the instance replaced", func() bool { return p.Idle() == 1 })
	out, err := p.Call(context.Background(), event("x"))
	if !errors.Is(err, ErrBackedOff) || out.Duration != 0 {
		t.Fatalf("4th call: %v after %s, want ErrBackedOff without running", err, out.Duration)
	}
	if p.Idle() != 1 {
		t.Error("a refused call took an instance")
	}
	if open, opened := p.BackedOff(); !open || opened != 1 {
		t.Errorf("BackedOff() = %v, %d", open, opened)
	}
	copyFile(t, "ok", path)
	if swapped, err := p.Reload(context.Background()); !swapped || err != nil {
		t.Fatalf("reload: %v %v", swapped, err)
	}
	if out, err := p.Call(context.Background(), event("x")); err != nil || string(out.Reply) != "<nomessage/>" {
		t.Errorf("after a reload: %q %v, want the new version called", out.Reply, err)
	}
}

// TestSlotsBoundConcurrency: with Concurrency 1, a second call waits for
// the running one's slot although an instance is free, and fails as a
// deadline (and busy) if its deadline passes first, without having run.
func TestSlotsBoundConcurrency(t *testing.T) {
	t.Parallel()
	p := load(t, newEngine(t), "loop", Limits{Instances: 2, Concurrency: 1}, hostfn.Grants{}) // testTimeout
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, event("x"))
		done <- err
	}()
	waitFor(t, "the first call to run", func() bool { return len(p.gate.slots) == 1 && p.Idle() == 1 })
	// A second of waiting; not less, or the ctx may end before Call starts
	// on a loaded machine ("not called").
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	out, err := p.Call(short, event("x"))
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "no CPU slot") {
		t.Errorf("second call: %v, want a deadline waiting for a CPU slot", err)
	}
	if out.Duration != 0 || p.Idle() != 1 {
		t.Errorf("the second call ran (%s) or took the free instance (%d idle)", out.Duration, p.Idle())
	}
	cancel()
	if err := <-done; !errors.Is(err, ErrCanceled) {
		t.Errorf("first call: %v", err)
	}
	if n := len(p.gate.slots); n != 0 {
		t.Errorf("%d slots still held", n)
	}
}

// TestDefaultConcurrency: half the processors, at least one, at most the
// pool.
func TestDefaultConcurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lim  Limits
		want int
	}{
		{Limits{}, min(DefaultInstances, DefaultConcurrency())},
		{Limits{Instances: 1}, 1},
		{Limits{Instances: 8, Concurrency: 3}, 3},
		{Limits{Instances: 2, Concurrency: 5}, 2},
	} {
		if got := tc.lim.withDefaults().Concurrency; got != tc.want {
			t.Errorf("%+v: concurrency %d, want %d", tc.lim, got, tc.want)
		}
	}
	if DefaultConcurrency() < 1 {
		t.Errorf("DefaultConcurrency() = %d", DefaultConcurrency())
	}
}

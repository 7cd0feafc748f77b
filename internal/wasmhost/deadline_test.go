package wasmhost

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWatchdog: the watchdog ends each call's ctx at its deadline (in any
// order of registration), as a timeout would (Err and Cause say
// DeadlineExceeded); a call released before its deadline is left alone;
// the caller's cancellation and earlier deadline still apply; after close,
// calls get a timer of their own.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	var d deadlines
	now := time.Now()
	type call struct {
		ctx     context.Context
		release func()
		at      time.Time
	}
	var calls []call
	for _, after := range []time.Duration{300, 100, 200, 100, 50} {
		at := now.Add(after * time.Millisecond)
		ctx, release := d.withDeadline(context.Background(), at)
		calls = append(calls, call{ctx, release, at})
	}
	kept, releaseKept := d.withDeadline(context.Background(), now.Add(50*time.Millisecond))
	releaseKept() // over before its deadline
	for i, c := range calls {
		select {
		case <-c.ctx.Done():
		case <-time.After(stopBound):
			t.Fatalf("call %d: not ended %s after its deadline", i, stopBound)
		}
		if time.Now().Before(c.at) {
			t.Errorf("call %d ended before its deadline", i)
		}
		if dl, ok := c.ctx.Deadline(); !ok || !dl.Equal(c.at) {
			t.Errorf("call %d: Deadline() = %v %v", i, dl, ok)
		}
		if !errors.Is(c.ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c.ctx), context.DeadlineExceeded) {
			t.Errorf("call %d: Err %v, Cause %v", i, c.ctx.Err(), context.Cause(c.ctx))
		}
		c.release()
	}
	if !errors.Is(kept.Err(), context.Canceled) {
		t.Errorf("a released call: %v, want canceled by its release, not expired", kept.Err())
	}
	d.mu.Lock()
	if n := len(d.calls); n != 0 {
		t.Errorf("%d calls left in the watchdog", n)
	}
	d.mu.Unlock()

	// The caller's cancellation, and its earlier deadline.
	parent, cancel := context.WithCancel(context.Background())
	ctx, release := d.withDeadline(parent, time.Now().Add(time.Hour))
	cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("canceled by its caller: %v", ctx.Err())
	}
	release()
	early, cancelEarly := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelEarly()
	ctx, release = d.withDeadline(early, time.Now().Add(time.Hour))
	if dl, _ := ctx.Deadline(); dl.After(time.Now().Add(time.Minute)) {
		t.Errorf("deadline %v: the caller's earlier one should win", dl)
	}
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("the caller's deadline: %v", ctx.Err())
	}
	release()

	d.close()
	ctx, release = d.withDeadline(context.Background(), time.Now().Add(10*time.Millisecond))
	defer release()
	select {
	case <-ctx.Done():
	case <-time.After(stopBound):
		t.Fatal("after close, a call's deadline was not enforced")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("after close: %v", ctx.Err())
	}
}

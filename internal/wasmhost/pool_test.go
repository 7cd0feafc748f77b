package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/testsupport"
)

// TestConcurrentCalls hammers several plugins, healthy and failing, from
// many goroutines (run it with -race).
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	plugins := map[string]*Plugin{
		"ok":    load(t, e, "ok", Limits{}, hostfn.Grants{}),
		"echo":  load(t, e, "echo", Limits{Instances: 2}, hostfn.Grants{}),
		"fail":  load(t, e, "fail", Limits{Instances: 3}, hostfn.Grants{}),
		"flaky": load(t, e, "flaky", Limits{Instances: 2}, hostfn.Grants{}),
		"trap":  load(t, e, "trap", Limits{Instances: 1}, hostfn.Grants{}),
	}
	names := []string{"ok", "echo", "fail", "flaky", "trap"}
	workers, calls := 16, 200
	if testing.Short() {
		workers, calls = 8, 30
	}
	var wg sync.WaitGroup
	var traps atomic.Int64
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range calls {
				name := names[r.IntN(len(names))]
				sid := fmt.Sprintf("s%d", r.IntN(1000))
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				out, err := plugins[name].Call(ctx, event(sid))
				cancel()
				switch name {
				case "ok":
					if err != nil || string(out.Reply) != "<nomessage/>" {
						t.Errorf("ok: %q %v", out.Reply, err)
					}
				case "echo":
					if err != nil || !strings.Contains(string(out.Reply), `id="`+sid+`"`) {
						t.Errorf("echo %s: %q %v", sid, out.Reply, err)
					}
				case "fail":
					if err != nil || out.Status != 1 || out.Error != "upstream not ready" {
						t.Errorf("fail: %+v %v", out, err)
					}
				case "flaky":
					if err != nil && !errors.Is(err, ErrTrap) || err == nil && string(out.Reply) != "1" {
						t.Errorf("flaky: %q %v", out.Reply, err)
					}
				case "trap":
					if !errors.Is(err, ErrTrap) {
						t.Errorf("trap: %v", err)
					}
					traps.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls, %d traps", workers*calls, traps.Load())
}

func TestReload(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	copyFile(t, "ok", path)
	p, err := e.Load(ctx, path, Limits{Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	okSHA := p.SHA256()

	if swapped, err := p.Reload(ctx); swapped || err != nil {
		t.Errorf("reload of an unchanged file: %v %v", swapped, err)
	}
	copyFile(t, "echo", path)
	if swapped, err := p.Reload(ctx); !swapped || err != nil {
		t.Fatalf("reload: %v %v", swapped, err)
	}
	echoSHA := p.SHA256()
	if echoSHA == okSHA {
		t.Error("SHA256 unchanged")
	}
	if out, err := p.Call(ctx, event("5a1d")); err != nil || !strings.Contains(string(out.Reply), "5a1d") {
		t.Errorf("after reload: %q %v", out.Reply, err)
	}

	// Broken new versions: the old one keeps serving.
	for name, data := range map[string][]byte{
		"garbage": []byte("not wasm"),
		"v2":      mustRead(t, fixture("v2")),
	} {
		writeFile(t, path, data)
		swapped, err := p.Reload(ctx)
		if swapped || err == nil || !strings.Contains(err.Error(), "keeps serving") {
			t.Errorf("%s: %v %v", name, swapped, err)
		}
		if p.SHA256() != echoSHA {
			t.Errorf("%s: SHA256 changed", name)
		}
		if out, err := p.Call(ctx, event("5a1d")); err != nil || !strings.Contains(string(out.Reply), "5a1d") {
			t.Errorf("%s: old version not serving: %q %v", name, out.Reply, err)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reload(ctx); err == nil {
		t.Error("reload of a missing file succeeded")
	}

	// Swaps under load: no call fails, every reply is one version's.
	var calls atomic.Int64
	stop := hammer(t, p, 8, func(out Outcome, err error) {
		if err != nil {
			t.Errorf("call during reloads: %v", err)
		} else if r := string(out.Reply); r != "<nomessage/>" && !strings.Contains(r, "5a1d") {
			t.Errorf("reply %q", r)
		}
		calls.Add(1)
	})
	n := 30
	if testing.Short() {
		n = 6
	}
	for i := range n {
		copyFile(t, []string{"ok", "echo"}[i%2], path)
		if swapped, err := p.Reload(ctx); !swapped || err != nil {
			t.Errorf("reload %d: %v %v", i, swapped, err)
			break
		}
	}
	stop()
	t.Logf("%d reloads, %d calls", n, calls.Load())
}

// hammer calls p from workers goroutines until the returned stop is
// called (which waits for them), passing each outcome to check. Workers
// yield after each call, as delivery workers blocked on I/O would: a tight
// loop starves wazero's per-call watcher goroutines, which then pile up by
// the thousand (see the package notes).
func hammer(t testing.TB, p *Plugin, workers int, check func(Outcome, error)) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				out, err := p.Call(context.Background(), event("5a1d"))
				check(out, err)
				runtime.Gosched()
			}
		})
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReloadHeap reloads 200 times under load (1,000 under make
// test-long) and checks the live heap comes back to where it started: old
// versions are freed. Not parallel: other tests would move the heap.
func TestReloadHeap(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	copyFile(t, "ok", path)
	// A test-sized deadline: the guests return at once, but under -race on
	// a loaded machine a call may wait for a CPU longer than the 250 ms
	// production default.
	p, err := e.Load(ctx, path, Limits{Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	failed := false
	reload := func(i int) {
		copyFile(t, []string{"echo", "ok"}[i%2], path)
		if swapped, err := p.Reload(ctx); !swapped || err != nil {
			t.Errorf("reload %d: %v %v", i, swapped, err)
			failed = true
		}
	}
	check := func(_ Outcome, err error) {
		if err != nil {
			t.Errorf("call: %v", err)
		}
	}
	// The soak, 1,000 reloads under load, runs under make
	// test-long (it was 47 s of a loaded machine's test run). make test
	// runs 200: a version left alive by each reload (a module, its
	// instances) is far above the slack below after 200 as after 1,000,
	// and so is a leak of 1 KiB per reload (200 KiB).
	n := 200
	switch {
	case testsupport.LongRun():
		n = 1000
	case testing.Short():
		n = 50
	}

	// Warm up under the same load: both versions compiled and cached, the
	// runtime's goroutine and timer structures grown to their working size.
	stop := hammer(t, p, 4, check)
	for i := range 20 {
		reload(i)
	}
	stop()
	p.old.Wait()
	start := liveHeap()

	stop = hammer(t, p, 4, check)
	for i := 0; i < n && !failed; i++ {
		reload(i)
	}
	stop()
	p.old.Wait()
	end := liveHeap()
	t.Logf("live heap: %d KiB before, %d KiB after %d reloads under load", start>>10, end>>10, n)
	// Within 10 % of the start, plus a fixed 128 KiB for the Go runtime's
	// own bookkeeping (goroutine records of wazero's per-call watchers grow
	// with scheduling under load; 60–140 KiB measured whether 1,000 or
	// 3,000 reloads): this test's baseline is only ~550 KiB, so 10 % alone
	// is below that noise, while a leak of 1 KiB per reload would still
	// show as 1 MiB.
	if limit := start + start/10 + 128<<10; end > limit {
		t.Errorf("live heap grew from %d to %d bytes (> 10%% + 128 KiB) over %d reloads", start, end, n)
	}
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCloseLeavesNothing checks that closing the engine ends every
// goroutine it started (calls, replacements, old versions), waiting for
// them to settle rather than sleeping. Not parallel: it counts goroutines.
func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	e, err := NewEngine(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	copyFile(t, "ok", path)
	reloaded, err := e.Load(ctx, path, Limits{Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	var ps []*Plugin
	for _, name := range []string{"ok", "trap", "flaky", "membomb"} {
		p, err := e.Load(ctx, fixture(name), Limits{MemoryPages: 32, Timeout: testTimeout}, hostfn.Grants{})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	loop, err := e.Load(ctx, fixture("loop"), Limits{Timeout: testTimeout, Instances: 2, Concurrency: 2}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		for _, p := range ps {
			_, _ = p.Call(ctx, event("x")) // failures start replacements
		}
	}
	copyFile(t, "echo", path)
	if _, err := reloaded.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// Calls still running when Close comes: stopped once its ctx ends.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := loop.Call(ctx, event("x"))
			errs <- err
		}()
	}
	waitFor(t, "the loops to start", func() bool { return len(loop.cur.Load().pool) == 0 })

	// Close does not wait for the loops' minute-long deadline: stops fails
	// the test if it has not returned within stopBound.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	stops(t, "Close with calls running", func() { err = e.Close(cctx) })
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a call interrupted by Close succeeded")
		}
	}
	for _, p := range append(ps, loop, reloaded) {
		if _, err := p.Call(ctx, event("x")); !errors.Is(err, ErrClosed) {
			t.Errorf("call after Close: %v", err)
		}
	}
	waitFor(t, fmt.Sprintf("goroutines back to %d", before), func() bool { return runtime.NumGoroutine() <= before })
}

package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
)

// TestFixtureOutcomes runs each fixture once and checks its documented
// outcome.
func TestFixtureOutcomes(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	const drop5a1d = `<module><islLight><session id="5a1d"><drop/></session></islLight></module>`
	for _, tc := range []struct {
		name    string
		lim     Limits
		ev      *hook.Event
		status  int32
		reply   string
		errText string
		is      []error
	}{
		{name: "ok", status: 0, reply: "<nomessage/>"},
		{name: "echo", status: 0, reply: drop5a1d},
		{name: "echo", ev: &hook.Event{Fields: map[string]string{"EVENT": "X"}}, status: 2},
		{name: "fail", status: 1},
		{name: "fatal", status: 2},
		{name: "badptr", status: 0},
		{name: "trap", errText: "plugin trapped: wasm error: unreachable", is: []error{ErrTrap}},
		{name: "loop", lim: Limits{Timeout: 30 * time.Millisecond}, errText: "plugin exceeded its 30ms deadline", is: []error{ErrDeadline, context.DeadlineExceeded}},
		{name: "membomb", lim: Limits{MemoryPages: 64}, errText: "plugin trapped near its memory limit (64 of 64 pages in use)", is: []error{ErrMemoryLimit, ErrTrap}},
		{name: "hugeout", errText: "plugin reply too large: it tried to set 1048576 bytes, limit 16384", is: []error{ErrReplyTooLarge}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := load(t, e, tc.name, tc.lim, hostfn.Grants{})
			ev := tc.ev
			if ev == nil {
				ev = event("5a1d")
			}
			out, err := p.Call(context.Background(), ev)
			if tc.errText != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want %q…", err, tc.errText)
				}
				for _, target := range tc.is {
					if !errors.Is(err, target) {
						t.Errorf("err %v is not %v", err, target)
					}
				}
				t.Logf("%s: %v", tc.name, err)
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if out.Status != tc.status || tc.reply != "" && string(out.Reply) != tc.reply {
				t.Errorf("status %d reply %q, want %d %q", out.Status, out.Reply, tc.status, tc.reply)
			}
			if out.Duration <= 0 {
				t.Errorf("duration %s", out.Duration)
			}
		})
	}
}

func TestEchoReadsTheEvent(t *testing.T) {
	t.Parallel()
	p := load(t, newEngine(t), "echo", Limits{}, hostfn.Grants{})
	ev := event("5a1d")
	out, err := p.Call(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Logs) != 1 || out.Logs[0].Source != "log" || out.Logs[0].Level != hostapi.LevelInfo {
		t.Fatalf("logs %+v", out.Logs)
	}
	form := out.Logs[0].Text
	if !strings.HasPrefix(form, "CLIENT_IP=203.0.113.42&DESK=Support+desk+%2F+Ljubljana&DOMAIN_ID=acme&EVENT=NEWSESSION&EVENT_ID=") {
		t.Errorf("event as read: %q", form)
	}
	var names []string
	for _, hc := range out.HostCalls {
		names = append(names, hc.Name+"="+hostapi.StatusName(hc.Status))
	}
	wantCalls := []string{"event_read=" + strconv.Itoa(len(form)), "event_read=" + strconv.Itoa(len(form)), "log=OK", "event_get=4", "event_get=4", "reply_set=OK"}
	if !slices.Equal(names, wantCalls) {
		t.Errorf("host calls %v, want %v", names, wantCalls)
	}
	t.Logf("event form: %d bytes", len(form))

	out, err = p.Call(context.Background(), &hook.Event{Fields: map[string]string{"EVENT": "X"}})
	if err != nil || out.Status != 2 || out.Error != "no SESSIONID" {
		t.Errorf("without SESSIONID: %+v %v", out, err)
	}
}

// TestFailedInstanceReplaced: after any failure the instance is closed and
// the next call is served by a fresh one.
func TestFailedInstanceReplaced(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := context.Background()

	// Black box: flaky traps on the second call of an instance; a reused
	// instance would answer "3" on the third call.
	p := load(t, e, "flaky", Limits{Instances: 1}, hostfn.Grants{})
	for i, want := range []string{"1", "trap", "1", "trap", "1"} {
		out, err := p.Call(ctx, event("x"))
		switch {
		case want == "trap" && !errors.Is(err, ErrTrap):
			t.Fatalf("call %d: %v, want a trap", i+1, err)
		case want != "trap" && (err != nil || string(out.Reply) != want):
			t.Fatalf("call %d: %q %v, want %q", i+1, out.Reply, err, want)
		}
	}

	// White box, every kind of failure: the instance that failed is closed
	// and a different one takes its place.
	for _, tc := range []struct {
		name string
		lim  Limits
	}{
		{"trap", Limits{}},
		{"loop", Limits{Timeout: 10 * time.Millisecond}},
		{"membomb", Limits{MemoryPages: 32}},
		{"hugeout", Limits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.lim.Instances = 1
			p := load(t, e, tc.name, tc.lim, hostfn.Grants{})
			v := p.cur.Load()
			before := <-v.pool
			v.pool <- before
			if _, err := p.Call(ctx, event("x")); err == nil {
				t.Fatal("no error")
			}
			if !before.mod.IsClosed() {
				t.Error("failed instance not closed")
			}
			waitFor(t, "a replacement", func() bool { return poolFull(p) })
			after := <-v.pool
			v.pool <- after
			if after == before || after.mod.IsClosed() {
				t.Error("the failed instance is back in the pool")
			}
		})
	}
}

// TestFailingPluginDoesNotAffectOthers runs a healthy plugin while others
// trap, loop and bomb their memory at the same time.
func TestFailingPluginDoesNotAffectOthers(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ctx := context.Background()
	good := load(t, e, "echo", Limits{}, hostfn.Grants{})
	bad := []*Plugin{
		load(t, e, "trap", Limits{}, hostfn.Grants{}),
		load(t, e, "loop", Limits{Timeout: 20 * time.Millisecond}, hostfn.Grants{}),
		load(t, e, "membomb", Limits{MemoryPages: 32}, hostfn.Grants{}),
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range bad {
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := p.Call(ctx, event("x")); err == nil {
						t.Error("failing plugin succeeded")
						return
					}
				}
			})
		}
	}
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		out, err := good.Call(ctx, event("5a1d"))
		if err != nil || !bytes.Contains(out.Reply, []byte(`id="5a1d"`)) {
			t.Fatalf("call %d of the good plugin: %v %q", i, err, out.Reply)
		}
	}
	close(stop)
	wg.Wait()
}

// TestDeadline checks behaviour, not speed: a looping guest is stopped
// after its deadline (not before), well within stopBound, with the error
// that says which deadline hit. How soon after the deadline it stops is
// measured by BenchmarkDeadlineOvershoot (p99 ~3 ms on an idle machine);
// under -race on a loaded one a GC pause or a wait for a CPU can add
// seconds, which a test must not fail on. Not parallel: the overshoot it
// logs would mostly say how long the other tests' guests held the CPUs.
func TestDeadline(t *testing.T) {
	e := newEngine(t)
	const timeout = 20 * time.Millisecond
	p := load(t, e, "loop", Limits{Timeout: timeout}, hostfn.Grants{})
	noBreaker(p) // every call loops: the breaker would back it off after 3
	n := 20
	if testing.Short() {
		n = 5
	}
	var over []time.Duration
	for range n {
		var out Outcome
		var err error
		d := stops(t, "a loop past its 20ms deadline", func() { out, err = p.Call(context.Background(), event("x")) })
		if !errors.Is(err, ErrDeadline) {
			t.Fatalf("err = %v", err)
		}
		if d < timeout {
			t.Fatalf("stopped after %s, before the %s deadline", d, timeout)
		}
		over = append(over, out.Duration-timeout)
	}
	slices.Sort(over)
	t.Logf("overshoot past a %s deadline: p50 %s, max %s", timeout, over[len(over)/2], over[len(over)-1])

	// The caller's earlier deadline wins, and the text says which one hit.
	// A second, not less: a ctx that ends before Call even starts (a loaded
	// machine can pause this goroutine that long) is not called at all.
	slow := load(t, e, "loop", Limits{}, hostfn.Grants{}) // testTimeout, past stopBound
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var err error
	stops(t, "a loop past its caller's 1s deadline", func() { _, err = slow.Call(ctx, event("x")) })
	if !errors.Is(err, ErrDeadline) || !strings.Contains(err.Error(), "the call's deadline") {
		t.Errorf("err = %v", err)
	}

	// Cancellation.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := slow.Call(ctx, event("x"))
		done <- err
	}()
	waitFor(t, "the call to start", func() bool { return len(slow.cur.Load().pool) < slow.lim.Instances })
	cancel()
	if err := <-done; !errors.Is(err, ErrCanceled) {
		t.Errorf("canceled call: %v", err)
	}
	if _, err := slow.Call(ctx, event("x")); !errors.Is(err, ErrCanceled) {
		t.Errorf("call with a done ctx: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	// testTimeout: under -race, GC assists inside memory.grow can take
	// seconds on a busy machine.
	p := load(t, e, "membomb", Limits{MemoryPages: 48}, hostfn.Grants{})
	_, err := p.Call(context.Background(), event("x"))
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "48 of 48 pages in use") {
		t.Fatalf("err = %v", err)
	}
	// A plugin declaring more memory than its limit is refused at load.
	_, err = e.Load(context.Background(), fixture("hugeout"), Limits{MemoryPages: 16}, hostfn.Grants{})
	if err == nil || !strings.Contains(err.Error(), "over limit of 16 pages") {
		t.Errorf("hugeout (17 pages) under a 16-page limit: %v", err)
	}
}

func TestBadABIRefused(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for name, want := range map[string][]string{
		"v2": {
			"it exports hookd_v2_on_event, the entry point of another ABI version; this hookd speaks hookd_v1 only",
			"it imports hookd_v2.log: ABI hookd_v2 is not supported; this hookd speaks hookd_v1 only",
		},
		"noexport":      {"it does not export hookd_v1_on_event, the entry point of ABI hookd_v1"},
		"unknownimport": {"it imports hookd_v1.launch_missiles, which ABI hookd_v1 does not have"},
	} {
		_, err := e.Load(context.Background(), fixture(name), Limits{}, hostfn.Grants{})
		var abi *ABIError
		if !errors.As(err, &abi) || !errors.Is(err, ErrABI) {
			t.Errorf("%s: %v, want an ABIError", name, err)
			continue
		}
		if !strings.Contains(err.Error(), fixture(name)) {
			t.Errorf("%s: the error does not name the file: %v", name, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", name, err, w)
			}
		}
		t.Logf("%s: %v", name, err)
	}

	dir := t.TempDir()
	notWasm := filepath.Join(dir, "x.wasm")
	writeFile(t, notWasm, []byte("#!/bin/sh\necho hi\n"))
	for path, want := range map[string]string{
		notWasm:                        "plugin does not compile",
		filepath.Join(dir, "missing"):  "does not exist",
		dir:                            "not a regular file",
		fixture("ok") + "/not-a-child": "not a directory",
	} {
		if _, err := e.Load(context.Background(), path, Limits{}, hostfn.Grants{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want %q", path, err, want)
		} else if n := strings.Count(err.Error(), path); n != 1 {
			t.Errorf("Load(%s) = %v: the path %d times, want once", path, err, n)
		}
	}
	big := filepath.Join(dir, "big.wasm")
	writeFile(t, big, make([]byte, MaxBinary+1))
	if _, err := e.Load(context.Background(), big, Limits{}, hostfn.Grants{}); err == nil || !strings.Contains(err.Error(), "over the 10485760-byte limit") {
		t.Errorf("oversize binary: %v", err)
	}

	for _, name := range []string{"ok", "echo", "badptr", "http", "sign", "init"} {
		p, err := e.Load(context.Background(), fixture(name), Limits{Instances: 1}, hostfn.Grants{})
		if err != nil {
			t.Errorf("Load(%s) = %v", name, err)
			continue
		}
		p.Close(context.Background())
	}
}

func TestLimitsValidated(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, lim := range []Limits{
		{MemoryPages: MaxMemoryPages + 1},
		{Timeout: time.Microsecond},
		{MaxReply: -1},
		{Instances: -1},
		{Instances: MaxInstances + 1},
		{Concurrency: -1},
		{SHA256: "abc"},
		{SHA256: strings.Repeat("g", 64)},
	} {
		if _, err := e.Load(context.Background(), fixture("ok"), lim, hostfn.Grants{}); err == nil {
			t.Errorf("Load with %+v succeeded", lim)
		}
	}
	if _, err := e.Load(context.Background(), fixture("ok"), Limits{}, hostfn.Grants{Config: []byte("[]")}); err == nil {
		t.Error("Load with a config that is not an object succeeded")
	}
	p, err := e.Load(context.Background(), fixture("ok"), Limits{}, hostfn.Grants{}) // not load: it sets a test timeout
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	want := Limits{MemoryPages: 256, Timeout: 250 * time.Millisecond, MaxReply: 16 << 10, Instances: 4, Concurrency: min(4, DefaultConcurrency())}
	if got := p.Limits(); got != want {
		t.Errorf("defaults %+v", got)
	}
}

func TestInitAndStdio(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	e, err := NewEngine(context.Background(), Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	p := load(t, e, "init", Limits{Instances: 2}, hostfn.Grants{})
	mu.Lock()
	if n := strings.Count(logs.String(), "text=init"); n != 2 {
		t.Errorf("init logged %d times for 2 instances:\n%s", n, logs.String())
	}
	mu.Unlock()
	out, err := p.Call(context.Background(), event("x"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range out.Logs {
		got = append(got, l.Source+":"+l.Text)
	}
	if want := []string{"stdout:hello", "stdout:world", "stderr:oops"}; !slices.Equal(got, want) {
		t.Errorf("logs %v, want %v", got, want)
	}

	_, err = e.Load(context.Background(), fixture("init"), Limits{}, hostfn.Grants{Config: []byte(`{"a":1}`)})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "plugin refused to start: hookd_v1_init returned 7: config not accepted") {
		t.Errorf("init refusal: %v", err)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestEventTooLarge(t *testing.T) {
	t.Parallel()
	p := load(t, newEngine(t), "ok", Limits{}, hostfn.Grants{})
	ev := event("x")
	ev.Fields["BIG"] = strings.Repeat("x", hostapi.MaxEvent)
	if _, err := p.Call(context.Background(), ev); !errors.Is(err, ErrEventTooLarge) || !errors.Is(err, hook.ErrInvalidEvent) {
		t.Errorf("err = %v", err)
	}
}

func TestBusy(t *testing.T) {
	t.Parallel()
	p := load(t, newEngine(t), "loop", Limits{Instances: 1}, hostfn.Grants{}) // runs until canceled
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, event("x"))
		done <- err
	}()
	waitFor(t, "the call to start", func() bool { return len(p.cur.Load().pool) == 0 })
	// A second of waiting for the busy instance; not less, or the ctx may
	// end before Call starts on a loaded machine ("not called").
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	if _, err := p.Call(short, event("x")); !errors.Is(err, ErrBusy) {
		t.Errorf("second call: %v, want ErrBusy", err)
	}
	cancel()
	<-done
}

func TestCallAfterClose(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	p := load(t, e, "ok", Limits{}, hostfn.Grants{})
	sha := p.SHA256()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), event("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("call after close: %v", err)
	}
	if _, err := p.Reload(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("reload after close: %v", err)
	}
	if p.SHA256() != sha || len(sha) != 64 {
		t.Errorf("SHA256 %q", p.SHA256())
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Load(context.Background(), fixture("ok"), Limits{}, hostfn.Grants{}); !errors.Is(err, ErrClosed) {
		t.Errorf("load after engine close: %v", err)
	}
}

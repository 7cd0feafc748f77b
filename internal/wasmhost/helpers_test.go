package wasmhost

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/timingtest"
)

// Fixtures are hand-written WAT guests, committed with their binaries.
//
//go:generate sh -c "cd testdata && for f in *.wat; do wat2wasm $f -o ${f%.wat}.wasm; done"

// fixture returns the path of testdata/name.wasm.
func fixture(name string) string { return filepath.Join("testdata", name+".wasm") }

func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// testTimeout is the deadline of calls of guests that are meant to finish
// (load's default): under -race, on a 2-core machine busy with other
// work, a call may wait for a CPU far longer than the production 250 ms,
// and must not fail for it. A guest that never returns is still stopped.
const testTimeout = time.Minute

// stopBound bounds how long a guest that runs past its (short) deadline
// may take to be stopped: generous, so that a loaded machine never fails
// the test, yet far from what an unenforced deadline gives (never).
const stopBound = timingtest.StopBound

// stops runs f, which is expected to be stopped, and returns how long it
// ran; it fails t if f has not returned within stopBound.
var stops = timingtest.Stops

// patience bounds waits for conditions (a replacement instance, goroutines
// ending): they only catch what never happens.
const patience = 2 * time.Minute

// load loads testdata/name.wasm in e, closed when t ends. A zero
// lim.Timeout is testTimeout, not the production default.
func load(t testing.TB, e *Engine, name string, lim Limits, g hostfn.Grants) *Plugin {
	t.Helper()
	if lim.Timeout == 0 {
		lim.Timeout = testTimeout
	}
	p, err := e.Load(context.Background(), fixture(name), lim, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// noBreaker keeps p's breaker closed whatever its calls do, for tests and
// benchmarks of guests that loop on every call.
func noBreaker(p *Plugin) {
	p.gate.mu.Lock()
	p.gate.threshold = 0
	p.gate.mu.Unlock()
}

// event is a NEWSESSION event of about 300 bytes, form-encoded.
func event(session string) *hook.Event {
	return &hook.Event{
		ID: "0190c6b2-7f3a-7c4e-9d2b-5a1d00000001",
		Fields: map[string]string{
			"EVENT_ID":  "0190c6b2-7f3a-7c4e-9d2b-5a1d00000001",
			"TIMESTAMP": "1732700000",
			"MODULE":    "ISL_LIGHT",
			"EVENT":     "NEWSESSION",
			"SERVERID":  "conf-proxy-1.example.com",
			"DOMAIN_ID": "acme",
			"SESSIONID": session,
			"USER":      "anna.svensson@example.com",
			"CLIENT_IP": "203.0.113.42",
			"PRODUCT":   "ISL Light 5.2",
			"DESK":      "Support desk / Ljubljana",
		},
		Created: time.Unix(1732700000, 0),
	}
}

// copyFile copies a fixture to dst, replacing it atomically.
func copyFile(t testing.TB, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, b)
}

func writeFile(t testing.TB, dst string, b []byte) {
	t.Helper()
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the test's patience runs out; it
// yields the processor between polls rather than sleeping a fixed time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// poolFull reports whether every instance of p's current version is idle
// in its pool.
func poolFull(p *Plugin) bool {
	v := p.cur.Load()
	return v != nil && len(v.pool) == p.lim.Instances
}

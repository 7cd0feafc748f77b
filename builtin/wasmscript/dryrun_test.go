package wasmscript_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
)

// countingCounters fails the test on any count: a dry run counts nothing.
type countingCounters struct{ n atomic.Int64 }

func (c *countingCounters) PluginCall(string, string, time.Duration) { c.n.Add(1) }
func (c *countingCounters) PluginReload(string, bool)                { c.n.Add(1) }
func (c *countingCounters) PluginHostCall(string, string, string)    { c.n.Add(1) }
func (c *countingCounters) WebAPICall(string, string, time.Duration) { c.n.Add(1) }

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return readFixtureFile(t, fixture(t, name))
}

func readFixtureFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDryRunJudgesAsHandle: a candidate uploaded as bytes is run on each
// event and judged as Handle judges it (the XMLMSG it would send, a
// failure for good), with its logs, host calls, guest time and memory;
// nothing is kept: no status, no domain logs, no counts, no module file.
func TestDryRunJudgesAsHandle(t *testing.T) {
	t.Parallel()
	count := &countingCounters{}
	cache := t.TempDir()
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{CacheDir: cache, PrivateDir: t.TempDir(), Counters: count})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	noSession := event("x")
	delete(noSession.Fields, "SESSIONID")
	spec := wasmscript.Spec{Domain: "5", Module: readFixture(t, "echo"), Settings: wasmscript.Settings{Timeout: testTimeout}, Strict: true}
	res, err := h.DryRun(context.Background(), spec, []*hook.Event{event("5a1d"), noSession}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	ok, failed := res[0], res[1]
	if ok.Verdict != wasmscript.VerdictAcknowledged || ok.Error != "" || len(ok.Commands) != 1 ||
		!strings.Contains(ok.Commands[0], `<session id="5a1d"><drop/></session>`) || ok.Status != 0 || ok.EventID == "" || ok.EventID != ok.Fields["EVENT_ID"] {
		t.Errorf("first event: %+v", ok)
	}
	if len(ok.Logs) != 1 || !strings.HasPrefix(ok.Logs[0], "info ") || !strings.Contains(ok.Logs[0], "SESSIONID=5a1d") {
		t.Errorf("logs %q; want the event logged at info", ok.Logs)
	}
	var fns []string
	for _, hc := range ok.HostCalls {
		fns = append(fns, hc.Function+"="+hc.Result)
	}
	if got := strings.Join(fns, ","); !strings.Contains(got, "event_read=OK") || !strings.Contains(got, "reply_set=OK") {
		t.Errorf("host calls %s", got)
	}
	if ok.Duration <= 0 || ok.Memory != 4<<16 {
		t.Errorf("duration %v, memory %d; want > 0 and the 4 pages echo declares", ok.Duration, ok.Memory)
	}
	if failed.Verdict != wasmscript.VerdictFailed || failed.Status != 2 || !strings.Contains(failed.Error, "no SESSIONID") ||
		!strings.Contains(failed.Error, "module sha256:") {
		t.Errorf("second event: %+v; want failed for good, the module named by its hash", failed)
	}
	if st := h.Plugins(); len(st) != 0 {
		t.Errorf("Plugins() = %+v; a dry run is not listed", st)
	}
	if l := h.Logs("5"); len(l) != 0 {
		t.Errorf("Logs = %+v; a dry run does not keep the domain's logs", l)
	}
	if n := count.n.Load(); n != 0 {
		t.Errorf("%d counts; a dry run counts nothing", n)
	}
	if _, err := os.Stat(filepath.Join(cache, "modules")); !os.IsNotExist(err) {
		t.Errorf("modules/: %v; an upload tested is not kept", err)
	}
}

// TestDryRunStubsHTTP: a candidate's requests pass its allow-list, then a
// stub answers them; without one they are denied, unless live_http asks
// for them to be really made.
func TestDryRunStubsHTTP(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	spec := func(url string) wasmscript.Spec {
		return wasmscript.Spec{Domain: "5", Path: fixture(t, "http"), Config: map[string]any{"url": url},
			Settings: wasmscript.Settings{Timeout: testTimeout, HTTPAllow: []string{"https://api.example.com", srv.URL}, AllowPrivate: []string{"127.0.0.1/32"}}}
	}
	run := func(s wasmscript.Spec, stubs []hook.HTTPStub, live bool) hook.DryRunResult {
		t.Helper()
		res, err := h.DryRun(context.Background(), s, []*hook.Event{event("a")}, stubs, live)
		if err != nil || len(res) != 1 {
			t.Fatalf("DryRun: %v, %v", res, err)
		}
		return res[0]
	}
	detail := func(r hook.DryRunResult) string {
		for _, hc := range r.HostCalls {
			if hc.Function == "http_request" {
				return hc.Result + " " + hc.Detail
			}
		}
		return ""
	}
	stubs := []hook.HTTPStub{
		{Method: "POST", URL: "https://api.example.com/x", Status: 500},
		{Method: "get", URL: "https://api.example.com/r", Status: 302, Headers: map[string]string{"Location": "/final"}},
		{URL: "https://api.example.com/final", Status: 204},
		{URL: "https://api.example.com/*", Status: 201, Body: `{"ok":true}`},
	}
	r := run(spec("https://api.example.com/x"), stubs, false)
	if r.Reply != "201" || detail(r) != "OK GET https://api.example.com/x: stubs[3] answered 201" {
		t.Errorf("stubbed: reply %q, %q", r.Reply, detail(r))
	}
	r = run(spec("https://api.example.com/r"), stubs, false)
	if want := "OK GET https://api.example.com/r: stubs[1] answered 302; then GET https://api.example.com/final: stubs[2] answered 204"; r.Reply != "204" || detail(r) != want {
		t.Errorf("stubbed redirect: reply %q, %q; want 204 and %q", r.Reply, detail(r), want)
	}
	r = run(spec("https://other.example.com/x"), stubs, true)
	if r.Reply != "E5" || !strings.HasPrefix(detail(r), "ERR_DENIED") {
		t.Errorf("outside the allow-list, even live: reply %q, %q; want ERR_DENIED", r.Reply, detail(r))
	}
	r = run(spec(srv.URL+"/y"), stubs, false)
	if r.Reply != "E5" || !strings.Contains(detail(r), "no stub matches; denied (live_http is off)") ||
		!strings.Contains(strings.Join(r.Logs, "\n"), "http_request denied: dry run: no stub answers GET "+srv.URL+"/y") || hits.Load() != 0 {
		t.Errorf("no stub: reply %q, %q, logs %q, %d hits", r.Reply, detail(r), r.Logs, hits.Load())
	}
	r = run(spec(srv.URL+"/y"), stubs, true)
	if r.Reply != "202" || !strings.Contains(detail(r), "really made (live_http)") || hits.Load() != 1 {
		t.Errorf("live: reply %q, %q, %d hits", r.Reply, detail(r), hits.Load())
	}
	for _, bad := range []hook.HTTPStub{{URL: "/x"}, {URL: "ftp://x/"}, {URL: "https://x/", Status: 99}, {URL: "https://x/", Method: "GET /"}} {
		if _, err := h.DryRun(context.Background(), spec(srv.URL), []*hook.Event{event("a")}, []hook.HTTPStub{bad}, false); !errors.Is(err, hook.ErrInvalid) {
			t.Errorf("stub %+v: %v; want ErrInvalid", bad, err)
		}
	}
}

// TestDryRunRefusesWhatServeRefuses: a candidate that would not load is
// refused as input (hook.ErrInvalid), for the reason Load gives.
func TestDryRunRefusesWhatServeRefuses(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	_, loadErr := h.Load(context.Background(), wasmscript.Spec{Path: fixture(t, "v2")})
	_, err := h.DryRun(context.Background(), wasmscript.Spec{Module: readFixture(t, "v2")}, []*hook.Event{event("a")}, nil, false)
	if loadErr == nil || !errors.Is(err, hook.ErrInvalid) || !strings.Contains(err.Error(), "it exports hookd_v2_on_event") {
		t.Errorf("Load: %v\nDryRun: %v", loadErr, err)
	}
	_, err = h.DryRun(context.Background(), wasmscript.Spec{Module: readFixture(t, "ok"), Settings: wasmscript.Settings{MemoryPages: 1}}, nil, nil, false)
	if !errors.Is(err, hook.ErrInvalid) || !strings.Contains(err.Error(), "memory_pages") {
		t.Errorf("settings: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.DryRun(ctx, wasmscript.Spec{Path: fixture(t, "ok")}, []*hook.Event{event("a")}, nil, false); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// trapState is a hook.StateStore a dry run must never reach.
type trapState struct{ *store.MemoryState }

func (trapState) Incr(context.Context, string, string, int64, time.Duration, hook.StateLimits) (int64, error) {
	panic("a dry run reached the domain's store")
}

// TestDryRunStateInMemory: a candidate with state = true counts in a
// store of the dry run's own, from empty, never in the domain's: the
// rate-limit example lets the first session through and drops the second.
func TestDryRunStateInMemory(t *testing.T) {
	t.Parallel()
	wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/rate-limit")
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{CacheDir: plugintest.CacheDir(t), PrivateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	settings := wasmscript.Settings{MemoryPages: 128, Timeout: testTimeout, State: true}
	spec := wasmscript.Spec{Domain: "5", Path: wasm, Strict: true, Config: map[string]any{"limit": 1, "secret": "s3cret", "message": "-"},
		Settings: settings.WithState(trapState{store.NewMemoryState()}, "5")}
	for range 2 { // and again from empty
		res, err := h.DryRun(context.Background(), spec, []*hook.Event{event("a"), event("b")}, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].Verdict != wasmscript.VerdictAcknowledged || len(res[0].Commands) != 0 ||
			len(res[1].Commands) != 1 || !strings.Contains(res[1].Commands[0], `<session id="b"><drop/>`) {
			t.Fatalf("results %+v; want a passed, b dropped", res)
		}
	}
}

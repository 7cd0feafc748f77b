package wasmscript_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// counters records what a Host reports, as the runtime's metrics would.
type counters struct {
	mu      sync.Mutex
	calls   []string // "domain outcome"
	reloads []string // "domain ok|refused"
	host    []string // "domain function result"
}

func (c *counters) PluginCall(domain, outcome string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, domain+" "+outcome)
}

func (c *counters) PluginReload(domain string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reloads = append(c.reloads, domain+" "+map[bool]string{true: "ok", false: "refused"}[ok])
}

func (c *counters) PluginHostCall(domain, function, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.host = append(c.host, domain+" "+function+" "+result)
}

func (c *counters) get() (calls, reloads []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...), append([]string(nil), c.reloads...)
}

var _ wasmscript.Counters = (*counters)(nil)

// countingHost returns a Host reporting to a counters of its own.
func countingHost(t *testing.T) (*wasmscript.Host, *counters) {
	t.Helper()
	c := &counters{}
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{PrivateDir: t.TempDir(), Counters: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, c
}

// TestCallsCounted: every Handle reports its outcome to the counters and
// to the plugin's status, by the outcome constants of hook.
func TestCallsCounted(t *testing.T) {
	t.Parallel()
	h, c := countingHost(t)
	ctx := context.Background()
	for _, tc := range []struct {
		fixture  string
		settings wasmscript.Settings
		strict   bool
		want     string
	}{
		{"ok", wasmscript.Settings{}, true, hook.PluginOK},
		{"echo", wasmscript.Settings{}, true, hook.PluginOK},
		{"flaky", wasmscript.Settings{}, false, hook.PluginOK},     // a reply that is not XMLMSG, ignored
		{"flaky", wasmscript.Settings{}, true, hook.PluginRefused}, // … refused when strict
		{"fail", wasmscript.Settings{}, true, hook.PluginRefused},
		{"fatal", wasmscript.Settings{}, true, hook.PluginRefused},
		{"hugeout", wasmscript.Settings{MemoryPages: 32}, true, hook.PluginRefused},
		{"trap", wasmscript.Settings{}, true, hook.PluginTrap},
		{"membomb", wasmscript.Settings{MemoryPages: 32}, true, hook.PluginMemory},
		{"loop", wasmscript.Settings{Timeout: hook.Duration(20 * time.Millisecond)}, true, hook.PluginDeadline},
	} {
		tc.settings.Instances = 1
		if tc.settings.Timeout == 0 {
			tc.settings.Timeout = testTimeout
		}
		domain := tc.fixture + map[bool]string{true: "-strict", false: "-lax"}[tc.strict]
		s, err := h.Load(ctx, wasmscript.Spec{Domain: domain, Path: fixture(t, tc.fixture), Settings: tc.settings, Strict: tc.strict})
		if err != nil {
			t.Fatalf("%s: %v", domain, err)
		}
		_, _ = s.Handle(ctx, event("5a1d"))
		st := s.Status()
		if st.Calls[tc.want] != 1 {
			t.Errorf("%s: status calls %v, want one %q", domain, st.Calls, tc.want)
		}
		if calls, _ := c.get(); calls[len(calls)-1] != domain+" "+tc.want {
			t.Errorf("%s: counted %q, want %q", domain, calls[len(calls)-1], domain+" "+tc.want)
		}
	}
	// A plugin backed off after running out its deadline: failed (the
	// host did not make the call).
	s, err := h.Load(ctx, wasmscript.Spec{Domain: "looping", Path: fixture(t, "loop"),
		Settings: wasmscript.Settings{Instances: 1, Timeout: hook.Duration(10 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for range 10 {
		if _, last = s.Handle(ctx, event("1")); strings.Contains(last.Error(), "backed off") {
			break
		}
	}
	if st := s.Status(); st.Calls[hook.PluginFailed] != 1 || st.Calls[hook.PluginDeadline] != 3 {
		t.Errorf("looping plugin: %v (last error %v); want 3 deadlines, then failed (backed off)", st.Calls, last)
	}
}

// TestReloadsCountedAndReported: a swap and a refusal are each reported
// once (counters and status); the status has what the admin page shows.
func TestReloadsCountedAndReported(t *testing.T) {
	t.Parallel()
	h, c := countingHost(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, fixture(t, "ok"), path)
	s, err := h.Load(ctx, wasmscript.Spec{Domain: "7", Path: path, Settings: wasmscript.Settings{Instances: 2, Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	st := h.Plugins()
	if len(st) != 1 || st[0].Domain != "7" || st[0].Path != path || st[0].SHA256 != sha(t, fixture(t, "ok")) || st[0].Instances != 2 ||
		st[0].Reloads != 0 || st[0].LastReload != nil || st[0].LastError != "" || len(st[0].Calls) != 6 {
		t.Fatalf("status after load: %+v", st)
	}

	replace(t, fixture(t, "echo"), path)
	if err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	replace(t, fixture(t, "v2"), path)
	for range 3 { // refused once, then not tried again
		_ = h.Reload(ctx)
	}
	_, reloads := c.get()
	if strings.Join(reloads, ",") != "7 ok,7 refused" {
		t.Errorf("reloads counted %v, want one ok then one refused", reloads)
	}
	got := s.Status()
	if got.Reloads != 1 || got.LastReload == nil || got.SHA256 != sha(t, fixture(t, "echo")) ||
		!strings.Contains(got.LastError, "hookd_v2_on_event") {
		t.Errorf("status: %+v", got)
	}
	replace(t, fixture(t, "ok"), path)
	if err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Status(); got.Reloads != 2 || got.LastError != "" {
		t.Errorf("after a good reload: %+v; want the refusal cleared", got)
	}
}

// TestWatchPrunesTheCache: Watch prunes the compilation cache at start
// (an old orphan entry goes) and after a reload that swapped.
func TestWatchPrunesTheCache(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	orphan := filepath.Join(cache, strings.Repeat("0", 64))
	if err := os.Mkdir(orphan, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{PrivateDir: t.TempDir(), CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, fixture(t, "ok"), path)
	if _, err := h.Load(context.Background(), wasmscript.Spec{Domain: "1", Path: path, Settings: wasmscript.Settings{Instances: 1, Timeout: testTimeout}}); err != nil {
		t.Fatal(err)
	}
	h.Watch(0) // no polling; SIGHUP's Reload below
	waitGone(t, orphan)

	// Four more versions: the first falls out of the last three.
	first := filepath.Join(cache, sha(t, fixture(t, "ok")))
	for i, name := range []string{"echo", "fail", "fatal", "flaky"} {
		replace(t, fixture(t, name), path)
		if err := h.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Duration(i+1) * time.Minute) // newer than the first, in order
		_ = os.Chtimes(filepath.Join(cache, sha(t, fixture(t, name)), "lock"), at, at)
	}
	waitGone(t, first)
}

// waitGone waits until path no longer exists.
func waitGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there", path)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// replace writes from's content to to by rename: a new file, as deploys
// do.
func replace(t *testing.T, from, to string) {
	t.Helper()
	tmp := to + ".tmp"
	copyFile(t, from, tmp)
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// TestHostCallsCounted: the effectful host calls of a call (here a
// jwt_sign the domain is not granted) reach the counters by function and
// result; reading the event and setting the reply do not.
func TestHostCallsCounted(t *testing.T) {
	t.Parallel()
	h, c := countingHost(t)
	ctx := context.Background()
	for _, f := range []string{"echo", "sign"} {
		s, err := h.Load(ctx, wasmscript.Spec{Domain: f, Path: fixture(t, f), Strict: true, Config: map[string]any{"key": "relay.pem"},
			Settings: wasmscript.Settings{Instances: 1, Timeout: testTimeout}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = s.Handle(ctx, event("5a1d"))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// sign calls jwt_sign twice (claims with exp, then without); no key is
	// granted, so both are denied.
	if want := []string{"sign jwt_sign ERR_DENIED", "sign jwt_sign ERR_DENIED"}; !slices.Equal(c.host, want) {
		t.Errorf("host calls counted %q, want %q", c.host, want)
	}
}

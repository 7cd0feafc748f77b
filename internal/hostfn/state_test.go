package hostfn

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/store"
)

// stateGrants grants state over store to domain, with lim (zero fields:
// the defaults).
func stateGrants(t *testing.T, st hook.StateStore, domain string, lim hook.StateLimits) *Grants {
	t.Helper()
	s, err := NewState(st, domain, lim)
	if err != nil {
		t.Fatal(err)
	}
	return &Grants{State: s}
}

// Offsets in the harness's memory used by the state tests.
const (
	keyAt = 0
	valAt = 1024
	bufAt = 8192
	outAt = 16384
)

func (h *harness) incr(t *testing.T, c *Call, key string, delta, ttlMs int64) (int64, int64) {
	t.Helper()
	k, kl := h.write(t, keyAt, key)
	st := h.call(t, c, hostapi.FuncStateIncr, k, kl, delta, ttlMs, outAt)
	b, ok := h.mod.Memory().Read(outAt, 8)
	if !ok {
		t.Fatal("read out")
	}
	return st, int64(binary.LittleEndian.Uint64(b))
}

func (h *harness) set(t *testing.T, c *Call, key, val string, ttlMs int64) int64 {
	t.Helper()
	k, kl := h.write(t, keyAt, key)
	v, vl := h.write(t, valAt, val)
	return h.call(t, c, hostapi.FuncStateSet, k, kl, v, vl, ttlMs)
}

func (h *harness) get(t *testing.T, c *Call, key string, bufLen int64) (int64, string) {
	t.Helper()
	k, kl := h.write(t, keyAt, key)
	h.fill(t, bufAt, 256, '#')
	st := h.call(t, c, hostapi.FuncStateGet, k, kl, bufAt, bufLen)
	return st, h.read(t, bufAt, uint32(max(st, 0)))
}

func (h *harness) del(t *testing.T, c *Call, key string) int64 {
	t.Helper()
	k, kl := h.write(t, keyAt, key)
	return h.call(t, c, hostapi.FuncStateDelete, k, kl)
}

// TestState: the four functions on a granted plugin: the reader protocol
// of state_get, state_incr's 8 little-endian bytes, not-found statuses,
// and every call recorded and counted.
func TestState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(stateGrants(t, store.NewMemoryState(), "acme", hook.StateLimits{}))
	if st, _ := h.get(t, c, "greeting", 64); st != int64(hostapi.ErrNotFound) {
		t.Errorf("state_get of an absent key = %s", hostapi.StatusName(st))
	}
	if st := h.set(t, c, "greeting", "hello, world", 0); st != 0 {
		t.Fatalf("state_set = %s", hostapi.StatusName(st))
	}
	if st, _ := h.get(t, c, "greeting", 0); st != 12 {
		t.Errorf("probe = %d, want 12", st)
	}
	if st, _ := h.get(t, c, "greeting", 11); st != 12 || h.read(t, bufAt, 12) != strings.Repeat("#", 12) {
		t.Errorf("short buffer: %d, %q written", st, h.read(t, bufAt, 12))
	}
	if st, v := h.get(t, c, "greeting", 64); st != 12 || v != "hello, world" {
		t.Errorf("state_get = %d %q", st, v)
	}
	for i, want := range []int64{3, 1, -1 << 40} {
		delta := []int64{3, -2, -1<<40 - 1}[i]
		if st, n := h.incr(t, c, "n", delta, 60_000); st != 0 || n != want {
			t.Errorf("state_incr(%d) = %s, %d; want %d", delta, hostapi.StatusName(st), n, want)
		}
	}
	if st, v := h.get(t, c, "n", 64); v != "-1099511627776" {
		t.Errorf("n holds %d %q", st, v)
	}
	if st := h.del(t, c, "n"); st != 0 {
		t.Errorf("state_delete = %s", hostapi.StatusName(st))
	}
	if st := h.del(t, c, "n"); st != int64(hostapi.ErrNotFound) {
		t.Errorf("state_delete again = %s", hostapi.StatusName(st))
	}
	// A key may be any printable ASCII, space included, up to 256 bytes.
	long := strings.Repeat("~", hostapi.MaxStateKey)
	for _, k := range []string{" ", "user 42 / window:1700000000", long} {
		if st := h.set(t, c, k, "v", 0); st != 0 {
			t.Errorf("state_set(%q) = %s", k, hostapi.StatusName(st))
		}
	}

	var names []string
	for _, hc := range c.HostCalls() {
		names = append(names, hc.Name+"="+hostapi.StatusName(hc.Status))
	}
	if got := strings.Join(names[:6], " "); got != "state_get=ERR_NOT_FOUND state_set=OK state_get=12 state_get=12 state_get=12 state_incr=OK" {
		t.Errorf("host calls recorded: %s", got)
	}
	if k := c.Counters(); k.StateCalls != len(names) || k.HostCalls != len(names) {
		t.Errorf("counters %+v, want %d state calls", k, len(names))
	}
}

// TestStateDomains: plugins of two domains on one store have keys of
// their own, and limits of their own.
func TestStateDomains(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	st := store.NewMemoryState()
	a := newCall(stateGrants(t, st, "a", hook.StateLimits{MaxKeys: 1}))
	b := newCall(stateGrants(t, st, "b", hook.StateLimits{}))
	if s := h.set(t, a, "k", "of a", 0); s != 0 {
		t.Fatal(hostapi.StatusName(s))
	}
	if s, _ := h.get(t, b, "k", 64); s != int64(hostapi.ErrNotFound) {
		t.Errorf("b reads a's key: %s", hostapi.StatusName(s))
	}
	if s := h.set(t, a, "k2", "v", 0); s != int64(hostapi.ErrLimit) {
		t.Errorf("a's second key = %s, want ERR_LIMIT", hostapi.StatusName(s))
	}
	if s := h.set(t, b, "k2", "v", 0); s != 0 {
		t.Errorf("b's key = %s", hostapi.StatusName(s))
	}
}

// TestStateRefusals: what a plugin may not do, each with its status and
// a host log line that says why.
func TestStateRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	lim := hook.StateLimits{MaxValue: 32, MaxKeys: 2, MaxBytes: 1 << 10}
	maxTTL := hostapi.MaxStateTTL.Milliseconds()
	for _, tc := range []struct {
		name string
		do   func(c *Call) int64
		want int32
		log  string
	}{
		{"not granted", func(c *Call) int64 { return h.set(t, c, "k", "v", 0) }, hostapi.ErrDenied, "state = true"},
		{"not granted, get", func(c *Call) int64 { s, _ := h.get(t, c, "k", 0); return s }, hostapi.ErrDenied, "state_get denied"},
		{"empty key", func(c *Call) int64 { return h.set(t, c, "", "v", 0) }, hostapi.ErrBadArgument, "key of 0 bytes"},
		{"long key", func(c *Call) int64 { return h.del(t, c, strings.Repeat("k", 257)) }, hostapi.ErrBadArgument, "1 to 256 bytes"},
		{"control byte", func(c *Call) int64 { s, _ := h.incr(t, c, "a\nb", 1, 0); return s }, hostapi.ErrBadArgument, "0x0a"},
		{"non-ASCII", func(c *Call) int64 { s, _ := h.get(t, c, "clé", 8); return s }, hostapi.ErrBadArgument, "printable ASCII"},
		{"negative ttl", func(c *Call) int64 { return h.set(t, c, "k", "v", -1) }, hostapi.ErrBadArgument, "ttl_ms -1"},
		{"ttl over 30 days", func(c *Call) int64 { s, _ := h.incr(t, c, "k", 1, maxTTL+1); return s }, hostapi.ErrBadArgument, "30 days"},
		{"ttl of 30 days", func(c *Call) int64 { return h.set(t, c, "k", "v", maxTTL) }, hostapi.OK, ""},
		{"value too large", func(c *Call) int64 { return h.set(t, c, "k", strings.Repeat("v", 33), 0) }, hostapi.ErrTooLarge, "state_max_value"},
		{"domain full", func(c *Call) int64 {
			h.set(t, c, "k1", "v", 0)
			h.set(t, c, "k2", "v", 0)
			return h.set(t, c, "k3", "v", 0)
		}, hostapi.ErrLimit, "state_max_keys"},
		{"not an integer", func(c *Call) int64 { h.set(t, c, "k", "ten", 0); s, _ := h.incr(t, c, "k", 1, 0); return s }, hostapi.ErrBadArgument, `not a decimal integer`},
		{"overflow", func(c *Call) int64 {
			h.incr(t, c, "k", 1<<62, 0)
			s, _ := h.incr(t, c, "k", 1<<62, 0)
			return s
		}, hostapi.ErrBadArgument, "overflows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(stateGrants(t, store.NewMemoryState(), "acme", lim))
			if strings.HasPrefix(tc.name, "not granted") {
				c = newCall(&Grants{Config: []byte(`{}`)})
			}
			if got := tc.do(c); got != int64(tc.want) {
				t.Errorf("status %s, want %s", hostapi.StatusName(got), hostapi.StatusName(int64(tc.want)))
			}
			if tc.log != "" && !hasHostLog(c, tc.log) {
				t.Errorf("no host log line with %q: %v", tc.log, c.Logs())
			}
		})
	}
}

func hasHostLog(c *Call, text string) bool {
	for _, l := range c.Logs() {
		if l.Source == "host" && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// TestStateStoreFailures: a store that cannot be used is ERR_FAILED, a
// call whose deadline passed is ERR_TIMEOUT, each logged; a store not yet
// bound (as at start) says so.
func TestStateStoreFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hookd.db"), store.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	g := stateGrants(t, store.PluginState{DB: db}, "acme", hook.StateLimits{})

	c := newCall(g)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	k, kl := h.write(t, keyAt, "k")
	if st := h.callCtx(canceled, t, c, hostapi.FuncStateDelete, k, kl); st != int64(hostapi.ErrTimeout) || !hasHostLog(c, "deadline") {
		t.Errorf("canceled: %s, logs %v", hostapi.StatusName(st), c.Logs())
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	c = newCall(g)
	if st := h.set(t, c, "k", "v", 0); st != int64(hostapi.ErrFailed) || !hasHostLog(c, "state_set of \"k\" failed") {
		t.Errorf("closed store: %s, logs %v", hostapi.StatusName(st), c.Logs())
	}
}

func TestNewState(t *testing.T) {
	t.Parallel()
	st := store.NewMemoryState()
	s, err := NewState(st, "d", hook.StateLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Limits(); got != (hook.StateLimits{MaxValue: 64 << 10, MaxKeys: 10000, MaxBytes: 16 << 20}) || s.Domain() != "d" {
		t.Errorf("defaults %+v %q", got, s.Domain())
	}
	for _, tc := range []struct {
		lim  hook.StateLimits
		want string
	}{
		{hook.StateLimits{MaxValue: 31}, "state_max_value: must be between 32 bytes and 1048576 (1 MiB), got 31"},
		{hook.StateLimits{MaxValue: 1<<20 + 1}, "state_max_value"},
		{hook.StateLimits{MaxKeys: -1}, "state_max_keys: must be between 1 and 1000000, got -1"},
		{hook.StateLimits{MaxBytes: 1023}, "state_max_bytes: must be between 1024 (1 KiB) and 1073741824 (1 GiB), got 1023"},
	} {
		if _, err := NewState(st, "d", tc.lim); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewState(%+v) = %v, want %q", tc.lim, err, tc.want)
		}
	}
	if _, err := NewState(nil, "d", hook.StateLimits{}); err == nil {
		t.Error("no store accepted")
	}
}

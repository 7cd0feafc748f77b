package pdkas_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/sdktest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// The state functions, through test/state.ts, on a real SQLite store.

const stateGuest = "test/state.ts"

// stateGrants opens a SQLite store in t's directory and grants its state
// to domain "acme" with lim.
func stateGrants(t *testing.T, lim hook.StateLimits) hostfn.Grants {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"), store.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := hostfn.NewState(store.PluginState{DB: db}, "acme", lim)
	if err != nil {
		t.Fatal(err)
	}
	return hostfn.Grants{State: s}
}

// stateOp runs one state operation of the state guest and returns its
// answer.
func stateOp(t *testing.T, p *wasmhost.Plugin, op, key, value, ttl string) string {
	t.Helper()
	if ttl == "" {
		ttl = "0"
	}
	return sdktest.Reply(t, p, "state", map[string]string{"text": op, "key": key, "value": value, "ttl": ttl})
}

func TestState(t *testing.T) {
	t.Parallel()
	g := stateGrants(t, hook.StateLimits{MaxValue: 64, MaxKeys: 4, MaxBytes: 4096})
	wasm := buildAS(t, stateGuest)
	p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, g)
	other := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, g) // other instances see the same state

	for _, step := range []struct {
		p                    *wasmhost.Plugin
		op, key, value, want string
	}{
		{p, "get", "k", "", "absent"},
		{p, "set", "k", "vü😀", "ok"},
		{other, "get", "k", "", "value:vü😀"},
		{p, "set", "k", "", "ok"}, // an empty value is a value
		{other, "get", "k", "", "value:"},
		{p, "incr", "n", "5", "5"},
		{other, "incr", "n", "-7", "-2"},
		{p, "get", "n", "", "value:-2"},
		{p, "incr", "n", "-9223372036854775806", "-9223372036854775808"},
		{p, "incr", "n", "-1", "E-1 pdk: state_incr: ERR_BAD_ARGUMENT"}, // overflow
		{p, "incr", "k", "1", "E-1 pdk: state_incr: ERR_BAD_ARGUMENT"},  // not an integer
		{p, "set", "big", strings.Repeat("x", 65), "E-4 pdk: state_set: ERR_TOO_LARGE"},
		{p, "set", "k2", "x", "ok"},
		{p, "set", "k3", "x", "ok"},
		{p, "set", "k4", "x", "E-6 pdk: state_set: ERR_LIMIT"}, // a fifth key
		{p, "delete", "k", "", "deleted"},
		{other, "delete", "k", "", "absent"},
		{other, "get", "k", "", "absent"},
		{p, "set", "k4", "x", "ok"}, // room again
		{p, "set", "", "x", `E-1 pdk: state_set: key "" (0 bytes): keys are 1 to 256 bytes of printable ASCII`},
		{p, "get", strings.Repeat("k", 257), "", `E-1 pdk: state_get: key "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…" (257 bytes): keys are 1 to 256 bytes`},
		{p, "delete", "ü", "", `E-1 pdk: state_delete: key "ü" (2 bytes): keys are 1 to 256 bytes of printable ASCII`},
		{p, "incr", "a\nb", "1", `E-1 pdk: state_incr: key "a\nb" (3 bytes)`},
		{p, "set", strings.Repeat("k", 256), "x", "E-6 pdk: state_set: ERR_LIMIT"}, // 256 bytes is a key (and the fifth)
	} {
		if got := stateOp(t, step.p, step.op, step.key, step.value, ""); !strings.HasPrefix(got, step.want) {
			t.Errorf("%s %.20q %.20q: %q, want %q", step.op, step.key, step.value, got, step.want)
		}
	}

	denied := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	for _, op := range []string{"get", "set", "incr", "delete"} {
		if got := stateOp(t, denied, op, "k", "1", ""); !strings.HasPrefix(got, "E-5 pdk: state_"+op+": ERR_DENIED") {
			t.Errorf("%s without state = true: %q, want ERR_DENIED", op, got)
		}
	}
}

// patience bounds the wait for a TTL to run out: generous, so that only a
// value that never expires fails the test (a loaded 2-core machine under
// -race takes its time).
const patience = 5 * time.Minute

// TestStateTTL: a value set with a TTL reads as absent once it expired; a
// TTL over the host's 30 days is refused.
func TestStateTTL(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, buildAS(t, stateGuest), wasmhost.Limits{Instances: 1}, stateGrants(t, hook.StateLimits{}))
	if got := stateOp(t, p, "set", "short", "v", "50"); got != "ok" {
		t.Fatalf("set with a TTL: %q", got)
	}
	deadline := time.Now().Add(patience)
	for stateOp(t, p, "get", "short", "", "") != "absent" {
		if time.Now().After(deadline) {
			t.Fatalf("a value with a 50 ms TTL is still there after %s", patience)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition: the TTL runs on the store's clock
	}
	if got := stateOp(t, p, "incr", "c", "1", "3600000"); got != "1" {
		t.Errorf("incr with a TTL: %q", got)
	}
	if got := stateOp(t, p, "set", "long", "v", "2592000001"); got != "E-1 pdk: state_set: a TTL of 2592000001 ms; it must be 0 (no expiry) to 2592000000 (30 days)" {
		t.Errorf("a TTL over 30 days: %q", got)
	}
	if got := stateOp(t, p, "incr", "neg", "1", "-1"); !strings.HasPrefix(got, "E-1 pdk: state_incr: a TTL of -1 ms") {
		t.Errorf("a negative TTL: %q", got)
	}
	if got := stateOp(t, p, "set", "max", "v", "2592000000"); got != "ok" {
		t.Errorf("a TTL of 30 days: %q", got)
	}
}

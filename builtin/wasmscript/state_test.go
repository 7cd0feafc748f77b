package wasmscript_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/internal/store"
)

// TestStateSettings: the state keys are validated against the ABI's
// ranges, count as plugin settings, and state = true needs a store bound
// with WithState.
func TestStateSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    wasmscript.Settings
		want string
	}{
		{wasmscript.Settings{State: true}, ""},
		{wasmscript.Settings{State: true, StateMaxValue: 32, StateMaxKeys: 1, StateMaxBytes: 1 << 10}, ""},
		{wasmscript.Settings{StateMaxValue: 31}, "state_max_value: must be between 32 bytes and 1048576 (1 MiB), got 31"},
		{wasmscript.Settings{StateMaxKeys: 1000001}, "state_max_keys: must be between 1 and 1000000, got 1000001"},
		{wasmscript.Settings{StateMaxKeys: -1}, "state_max_keys"},
		{wasmscript.Settings{StateMaxBytes: 1 << 31}, "state_max_bytes: must be between 1024 (1 KiB) and 1073741824 (1 GiB), got 2147483648"},
	} {
		err := tc.s.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
		if tc.s.Empty() {
			t.Errorf("%+v is not empty", tc.s)
		}
	}

	h := newHost(t)
	ctx := context.Background()
	spec := wasmscript.Spec{Domain: "5", Path: fixture(t, "ok"), Settings: wasmscript.Settings{State: true, Timeout: testTimeout}}
	if _, err := h.Load(ctx, spec); err == nil || !strings.Contains(err.Error(), "plugin.state: true, but this host has no store for plugin state") {
		t.Errorf("state without a store: %v", err)
	}
	bound := spec
	bound.Settings = spec.Settings.WithState(store.NewMemoryState(), spec.Domain)
	if _, err := h.Load(ctx, bound); err != nil {
		t.Errorf("state with a store: %v", err)
	}
	off := wasmscript.Spec{Domain: "5", Path: fixture(t, "ok"), Settings: wasmscript.Settings{Timeout: testTimeout}}
	if _, err := h.Load(ctx, off); err != nil { // no state: no store needed
		t.Errorf("no state: %v", err)
	}
}

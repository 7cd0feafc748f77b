package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wasmFixture is a hand-written plugin of internal/wasmhost/testdata.
func wasmFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "internal", "wasmhost", "testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPluginCheck: plugin check refuses what serve refuses (a memory
// declaration over memory_pages, an init that refuses its config) and
// applies the [[domain]] settings of -config as serve does.
func TestPluginCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	bigmem, initw := wasmFixture(t, "bigmem"), wasmFixture(t, "init")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
[store]
path = "hookd.db"
[http_events]
per_domain = true
[[domain]]
id = "big"
script = %q
[domain.plugin]
memory_pages = 300
[[domain]]
id = "picky"
script = %q
[domain.config]
mode = "strict"
`, bigmem, initw)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plugin", "check", wasmFixture(t, "ok")}, 0, "ok (ABI hookd_v1"},
		{[]string{"plugin", "check", bigmem}, 1, "over limit of 256 pages"},
		{[]string{"plugin", "check", bigmem, "-config", cfg}, 0, "ok (ABI hookd_v1"},
		{[]string{"plugin", "check", initw}, 0, "ok"},
		{[]string{"plugin", "check", initw, "-config", cfg}, 1, "hookd_v1_init returned 7: config not accepted"},
		{[]string{"plugin", "check", initw, "-config", cfg, "-domain", "nope"}, 1, `has no [[domain]] with id "nope"`},
		{[]string{"plugin", "check", wasmFixture(t, "v2")}, 1, "it exports hookd_v2_on_event"},
		{[]string{"plugin", "check"}, 2, "usage"},
	} {
		var out, errb bytes.Buffer
		code := run(ctx, tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("hookd %s: exit %d, stdout %q, stderr %q; want exit %d and %q",
				strings.Join(tc.args, " "), code, out.String(), errb.String(), tc.code, tc.want)
		}
	}
}

// TestPluginRun: one event through a plugin, with the event file's
// EVENT_ID kept and the same event rule as the API.
func TestPluginRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	os.WriteFile(ev, []byte(`{"MODULE":"ISL_LIGHT","EVENT":"NEW SESSION","SESSIONID":"5a1d","EVENT_ID":"0190c6b2-7f3a-7c4e-9d2b-5a1d00000001"}`), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"plugin", "run", wasmFixture(t, "echo"), "-event", ev}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"event:    0190c6b2-7f3a-7c4e-9d2b-5a1d00000001 ISL_LIGHT/NEWSESSION", `<session id="5a1d"><drop/>`,
		"hostcall: event_get -> ", "log:      [log info] "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"EVENT":"X"}`), 0o600)
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"plugin", "run", wasmFixture(t, "echo"), "-event", bad}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `missing required field "MODULE"`) {
		t.Errorf("an event without MODULE: exit %d, %s", code, errb.String())
	}
}

package httpevents_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
	"github.com/hookrt/hookd/internal/testsupport"
)

// provision provisions an [http_events] section with per-domain scripts
// ds, as the runtime does at start (serve), with reg as the runtime's
// metrics registry; the module is closed when t ends.
func provision(t *testing.T, ds httpevents.Domains, reg hook.MetricsRegistry) (*httpevents.Events, error) {
	t.Helper()
	plugins := &wasmscript.Plugins{CacheDir: t.TempDir()}
	env := hook.Env{
		Logger:         slog.New(slog.DiscardHandler),
		PrivateDir:     t.TempDir(),
		RequestTimeout: 2 * time.Second,
		UserAgent:      "hookd/test",
		Lookup: func(id string) (hook.Module, bool) {
			switch id {
			case httpevents.DomainID:
				return &ds, true
			case wasmscript.ID:
				return plugins, true
			}
			return nil, false
		},
		Resolve: func(p string) string { return p },
		Metrics: reg,
	}
	e := &httpevents.Events{PerDomain: true, PerDomainStrict: true}
	err := e.Provision(context.Background(), env)
	t.Cleanup(func() { _ = e.Close() })
	return e, err
}

// TestPluginCountersAndReporter: the module owning the plugins counts
// each call in its own metrics, registered in the runtime's registry
// (Env.Metrics) under hookd's names, and reports each plugin's status
// through hook.PluginReporter.
func TestPluginCountersAndReporter(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{PerTarget: true})
	e, err := provision(t, httpevents.Domains{
		{ID: "5", Script: fixture(t, "echo.wasm"), Plugin: wasmscript.Settings{Timeout: hook.Duration(time.Minute), Instances: 2}},
		{ID: "6", Script: fixture(t, "trap.wasm"), Plugin: wasmscript.Settings{Timeout: hook.Duration(time.Minute)}},
	}, m.Modules())
	if err != nil {
		t.Fatal(err)
	}
	var reporter hook.PluginReporter = e
	ev, err := hook.NewEvent(event("5", "NEWSESSION", "SESSIONID", "5a1d"), time.Now(), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range e.Targets() {
		_, _ = tg.Handler.Handle(context.Background(), ev)
	}
	want := `
# HELP hookd_plugin_calls_total WASM plugin calls, by outcome: ok, trap, deadline, memory, refused or failed.
# TYPE hookd_plugin_calls_total counter
hookd_plugin_calls_total{domain="5",outcome="ok"} 1
hookd_plugin_calls_total{domain="6",outcome="trap"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_plugin_calls_total"); err != nil {
		t.Error(err)
	}
	st := reporter.Plugins()
	if len(st) != 2 || st[0].Domain != "5" || st[0].Calls[hook.PluginOK] != 1 || st[0].Instances != 2 ||
		st[1].Domain != "6" || st[1].Calls[hook.PluginTrap] != 1 || len(st[0].SHA256) != 64 {
		t.Errorf("Plugins() = %+v", st)
	}
	if none, err := provision(t, nil, nil); err != nil || none.Plugins() != nil {
		t.Errorf("no plugins: %v, %v", none.Plugins(), err)
	}
}

// TestCheckRefusesAsServeDoes: `hookd plugin check` loads a plugin with
// wasmscript.Host.Load and the [[domain]]'s Spec (cmd/hookd/plugin.go);
// serve's Provision loads it the same way. Both accept and refuse the same
// modules, for the same reason: a memory declaration over memory_pages, an
// init that refuses its config or never returns (after the 5 s init
// timeout), a binary that is not the pinned one, another ABI.
func TestCheckRefusesAsServeDoes(t *testing.T) {
	t.Parallel()
	okSum := sha256.Sum256(mustReadFile(t, fixture(t, "ok.wasm")))
	for _, tc := range []struct {
		name   string
		domain httpevents.Domain
		want   string // "" loads
	}{
		{"memory over memory_pages", httpevents.Domain{Script: fixture(t, "bigmem.wasm")}, "over limit of 256 pages"},
		{"memory within memory_pages", httpevents.Domain{Script: fixture(t, "bigmem.wasm"), Plugin: wasmscript.Settings{MemoryPages: 300}}, ""},
		{"a declared maximum over memory_pages is lowered", httpevents.Domain{Script: fixture(t, "grow.wasm")}, ""},
		{"init refuses", httpevents.Domain{Script: fixture(t, "init.wasm"), Config: map[string]any{"a": 1}}, "hookd_v1_init returned 7: config not accepted"},
		{"init never returns", httpevents.Domain{Script: fixture(t, "initloop.wasm")}, "hookd_v1_init"},
		{"not the pinned binary", httpevents.Domain{Script: fixture(t, "echo.wasm"), Plugin: wasmscript.Settings{SHA256: hex.EncodeToString(okSum[:])}}, "pinned to"},
		{"the pinned binary", httpevents.Domain{Script: fixture(t, "ok.wasm"), Plugin: wasmscript.Settings{SHA256: hex.EncodeToString(okSum[:])}}, ""},
		{"another ABI", httpevents.Domain{Script: fixture(t, "v2.wasm")}, "it exports hookd_v2_on_event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "init never returns" {
				testsupport.Short(t, "the 5 s init timeout waited out")
			}
			tc.domain.ID = "1"
			tc.domain.Plugin.Instances = 1
			// What cmd/hookd/plugin.go does for `plugin check FILE -config …`,
			// at the same time as serve's start (an init that never returns
			// takes 5 s in each).
			h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{PrivateDir: t.TempDir(), UserAgent: "hookd/test"})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			checked := make(chan error, 1)
			go func() {
				_, err := h.Load(context.Background(), tc.domain.Spec(func(p string) string { return p }, true))
				checked <- err
			}()
			_, serveErr := provision(t, httpevents.Domains{tc.domain}, nil)
			checkErr := <-checked

			switch {
			case tc.want == "" && (serveErr != nil || checkErr != nil):
				t.Errorf("serve: %v; check: %v; want both to load it", serveErr, checkErr)
			case tc.want != "" && (checkErr == nil || !strings.Contains(checkErr.Error(), tc.want)):
				t.Errorf("check: %v; want %q", checkErr, tc.want)
			case tc.want != "" && (serveErr == nil || !strings.Contains(serveErr.Error(), checkErr.Error())):
				t.Errorf("serve: %v\ncheck: %v\nwant serve to refuse it for the same reason", serveErr, checkErr)
			}
		})
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

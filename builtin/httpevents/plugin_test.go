package httpevents_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// pluginSettings are the [domain.plugin] settings of every plugin domain
// here: the longest call deadline allowed, not the production 250 ms,
// which a call on a loaded machine (under -race) may wait for a CPU longer
// than; the guests return at once, or trap.
const pluginSettings = "[domain.plugin]\ntimeout = \"1m\"\n"

// fixture returns the absolute path of a hand-written plugin fixture.
func fixture(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "internal", "wasmhost", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPluginScripts: a domain's script can be a .wasm plugin; its reply
// means what a script's reply means (XMLMSG drop forwarded to the command
// sink), a trapping plugin is retried in strict mode without affecting
// another domain, and a lax one is accepted after its attempts.
func TestPluginScripts(t *testing.T) {
	t.Parallel()
	cmds := make(chan string, 4)
	sink := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
		cmds <- ev.Get(hook.CommandFieldXML)
		return hook.Result{}, nil
	})
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
per_domain = true
per_domain_strict = true
[plugins]
cache_dir = %q
[[domain]]
id = "echo"
script = %q
%s
[[domain]]
id = "trap"
script = %q
%s
[[domain]]
id = "fatal"
script = %q
%s
instances = 2
`, t.TempDir(), fixture(t, "echo.wasm"), pluginSettings, fixture(t, "trap.wasm"), pluginSettings, fixture(t, "fatal.wasm"), pluginSettings),
		hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(sink))
	ctx := context.Background()
	for _, d := range []string{"echo", "trap", "fatal"} {
		if _, err := rt.Emit(ctx, event(d, "NEW SESSION", "SESSIONID", "5a1d")); err != nil {
			t.Fatal(err)
		}
	}
	target := func(d string) string { return httpevents.DomainTargetPrefix + d }
	seen := obs.Wait(t, "echo delivered, trap retried, fatal dead", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", target("echo")) == 1 && hooktest.Count(o, "retrying", target("trap")) >= 2 &&
			hooktest.Count(o, "dead", target("fatal")) == 1
	})
	for _, o := range seen {
		switch {
		case o.Target == target("trap") && !strings.Contains(o.Reason, "trapped"):
			t.Errorf("trap: %q", o.Reason)
		case o.Target == target("fatal") && !strings.Contains(o.Reason, "failed for good"):
			t.Errorf("fatal: %q", o.Reason)
		}
	}
	if got := <-cmds; !strings.Contains(got, `<session id="5a1d">`) || !strings.Contains(got, "<drop") {
		t.Errorf("command sink got %q", got)
	}
	// The runtime's metrics see the plugins and their calls.
	for name, atLeast := range map[string]float64{
		"hookd_plugins": 3, "hookd_plugin_instances": 1,
		`hookd_plugin_calls_total{outcome="ok"}`: 1, `hookd_plugin_calls_total{outcome="trap"}`: 2,
	} {
		if got := gathered(t, rt, name); got < atLeast {
			t.Errorf("%s = %v, want at least %v", name, got, atLeast)
		}
	}
}

// gathered sums the samples of the runtime's metric name, narrowed to
// those with one label value when name ends in {label="value"}.
func gathered(t *testing.T, rt *hookrt.Runtime, name string) float64 {
	t.Helper()
	label, value := "", ""
	if i := strings.IndexByte(name, '{'); i > 0 {
		label, value, _ = strings.Cut(strings.Trim(name[i:], "{}"), "=")
		name, value = name[:i], strings.Trim(value, `"`)
	}
	mfs, err := rt.MetricsGatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == label && l.GetValue() == value }) {
				continue
			}
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestPluginReload: replacing the file swaps the plugin; a broken file is
// refused and the running version keeps serving.
func TestPluginReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "domain.wasm")
	copyFile(t, fixture(t, "ok.wasm"), path)
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
per_domain = true
per_domain_strict = true
[plugins]
reload_interval = 0
[[domain]]
id = "1"
script = %q
%s`, path, pluginSettings), hookrt.WithObserver(obs.Observe))
	ctx := context.Background()
	emitAndWait := func(n int, want string) {
		t.Helper()
		if _, err := rt.Emit(ctx, event("1", "NEW SESSION", "SESSIONID", "s1")); err != nil {
			t.Fatal(err)
		}
		obs.Wait(t, "delivered", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "") == n })
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ds[0].LastSummary != want {
			t.Fatalf("delivery %d answered %q; want %q", n, ds[0].LastSummary, want)
		}
	}
	emitAndWait(1, "nomessage")
	copyFile(t, fixture(t, "noexport.wasm"), path) // broken: refused, the old one serves
	if err := rt.Reload(ctx); err == nil || !strings.Contains(err.Error(), "hookd_v1_on_event") {
		t.Fatalf("reload of a broken plugin: %v", err)
	}
	emitAndWait(2, "nomessage")
	copyFile(t, fixture(t, "echo.wasm"), path)
	if err := rt.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	emitAndWait(3, "xmlmsg: drop s1")
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".tmp", to); err != nil {
		t.Fatal(err)
	}
}

// TestPluginsConcurrently: many events across many plugin domains at once
// (run with -race): every one is delivered, each by its own domain.
func TestPluginsConcurrently(t *testing.T) {
	t.Parallel()
	const domains, perDomain = 8, 40
	var cfg strings.Builder
	cfg.WriteString("[http_events]\nper_domain = true\nper_domain_strict = true\n")
	for i := range domains {
		fmt.Fprintf(&cfg, "[[domain]]\nid = \"d%d\"\nscript = %q\n%sinstances = 2\n", i, fixture(t, "echo.wasm"), pluginSettings)
	}
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), cfg.String(), hookrt.WithObserver(obs.Observe))
	ctx := context.Background()
	done := make(chan error, domains)
	for i := range domains {
		go func() {
			var err error
			for j := 0; j < perDomain && err == nil; j++ {
				_, err = rt.Emit(ctx, event(fmt.Sprint("d", i), "NEW SESSION", "SESSIONID", fmt.Sprintf("s%d-%d", i, j)))
			}
			done <- err
		}()
	}
	for range domains {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	seen := obs.Wait(t, "every event delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", "") == domains*perDomain
	})
	for _, o := range seen {
		if o.State != "delivered" {
			t.Errorf("%s: %s %s", o.Target, o.State, o.Reason)
		}
	}
	ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{State: hook.StateDelivered, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		full, err := rt.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		// echo.wasm drops the event's own session: the reply proves which
		// event the plugin saw.
		if want := "xmlmsg: drop " + full.Event["SESSIONID"]; full.LastSummary != want {
			t.Errorf("delivery %d (%s): %q, want %q", d.ID, d.Target, full.LastSummary, want)
		}
	}
}

package httpevents_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestPluginAnswersMeanWhatScriptAnswersMean: a domain plugin's answer is
// judged by the rule a script's reply is (xmlmsg.Judge). Strict, a plugin
// answering well-formed XML that is not XMLMSG is acknowledged with
// "nothing executed" in its record, and one answering XMLMSG commands
// hookd does not know has them forwarded whole to the command sink.
func TestPluginAnswersMeanWhatScriptAnswersMean(t *testing.T) {
	t.Parallel()
	cmds := make(chan string, 4)
	sink := hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
		cmds <- ev.Get(hook.CommandFieldTarget) + " " + ev.Get(hook.CommandFieldXML)
		return hook.Result{}, nil
	})
	wasm := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
per_domain = true
per_domain_strict = true
save_to_session = true
[plugins]
cache_dir = %q
[[domain]]
id = "result"
script = %q
%s
[[domain]]
id = "forward"
script = %q
%s
`, t.TempDir(), wasm("result"), pluginSettings, wasm("forward"), pluginSettings),
		hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(sink))
	ctx := context.Background()
	for _, d := range []string{"result", "forward"} {
		if _, err := rt.Emit(ctx, event(d, "START", "SESSIONID", "s9")); err != nil {
			t.Fatal(err)
		}
	}
	target := func(d string) string { return httpevents.DomainTargetPrefix + d }
	obs.Wait(t, "both plugins acknowledged, the commands forwarded", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", target("result")) == 1 && hooktest.Count(o, "delivered", target("forward")) == 1 &&
			hooktest.Count(o, "delivered", hook.CommandsTarget) == 1
	})
	select {
	case got := <-cmds:
		if !strings.HasPrefix(got, target("forward")+" ") || !strings.Contains(got, `<session id="s9"><transfer to="desk-2"/></session>`) ||
			!strings.Contains(got, "<queryDatabase/>") || !strings.Contains(got, `<module secret="s">`) {
			t.Errorf("command sink got %q; want the plugin's whole document", got)
		}
	default:
		t.Error("the plugin's XMLMSG commands did not reach the command sink")
	}
	evs, err := rt.SessionEvents(ctx, "s9")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		target("result"):  "acknowledged: XML not an XMLMSG document, nothing executed (root element <result>",
		target("forward"): "xmlmsg: 2 unknown to hookd, forwarded",
	}
	seen := 0
	for _, ev := range evs {
		for _, o := range ev.Targets {
			if w, ok := want[o.Target]; ok {
				seen++
				if !strings.HasPrefix(o.Summary, w) {
					t.Errorf("%s: summary %q; want %q", o.Target, o.Summary, w)
				}
			}
		}
	}
	if seen != 2 {
		t.Errorf("session record has %d of the 2 outcomes: %+v", seen, evs)
	}
}

// TestCombinedPluginForwardsEveryDocument: a plugin domain with
// combine_interval is called once per event of the interval; every call's
// XMLMSG commands reach the command sink, merged into one document.
func TestCombinedPluginForwardsEveryDocument(t *testing.T) {
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
combine_interval = "2s"
%s
`, t.TempDir(), fixture(t, "echo.wasm"), pluginSettings), hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(sink))
	ctx := context.Background()
	for _, s := range []string{"s1", "s2", "s3"} {
		if _, err := rt.Emit(ctx, event("echo", "START", "SESSIONID", s)); err != nil {
			t.Fatal(err)
		}
	}
	obs.Wait(t, "the three events delivered, the commands forwarded", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", httpevents.DomainTargetPrefix+"echo") == 3 &&
			hooktest.Count(o, "delivered", hook.CommandsTarget) >= 1
	})
	doc := <-cmds
	for _, s := range []string{"s1", "s2", "s3"} {
		if !strings.Contains(doc, `<session id="`+s+`"><drop/></session>`) {
			t.Errorf("the forwarded document lacks the drop of %s:\n%s", s, doc)
		}
	}
}

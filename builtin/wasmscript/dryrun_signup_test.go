package wasmscript_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
)

const signupGuard = "github.com/hookrt/hookd/plugins/examples/signup-guard"

// TestDryRunSignups: a dry run asks the candidate's hookd_v1_on_signup
// about each sign-up after the events, with the same state in memory (the
// signup-guard example counts what it allowed and refuses past its
// bound), and says per sign-up what it decided with its logs, host calls
// and time; nothing is counted, and a second dry run starts from an empty
// state again.
func TestDryRunSignups(t *testing.T) {
	t.Parallel()
	count := &countingCounters{}
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{CacheDir: t.TempDir(), PrivateDir: t.TempDir(), Counters: count})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	module := readFixtureFile(t, plugintest.Build(t, signupGuard))
	spec := wasmscript.Spec{Domain: "acme", Module: module, Settings: wasmscript.Settings{Timeout: testTimeout, State: true},
		Config: map[string]any{"allow": []any{"acme.example"}, "max": 1}}
	in := wasmscript.DryRunInput{Events: []*hook.Event{event("a")}, Signups: []hook.DryRunSignup{
		{Username: "ann", Domain: "acme", Email: "ann@acme.example"},
		{Username: "eve", Domain: "acme", Email: "eve@elsewhere.example"},
		{Username: "bob", Domain: "acme", Email: "bob@acme.example"},
	}}
	for run := range 2 { // the second starts from an empty state again
		rep, err := h.DryRunReport(context.Background(), spec, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) != 1 || rep.Results[0].Verdict != wasmscript.VerdictAcknowledged {
			t.Fatalf("run %d: events %+v; want the one event acknowledged", run, rep.Results)
		}
		if len(rep.Signups) != 3 {
			t.Fatalf("run %d: %d sign-up results, want 3: %+v", run, len(rep.Signups), rep.Signups)
		}
		ann, eve, bob := rep.Signups[0], rep.Signups[1], rep.Signups[2]
		if ann.Decision != hook.DryRunAllow || ann.Signup.Username != "ann" || ann.Status != 0 || ann.Duration <= 0 || ann.Memory < 1<<16 ||
			!hasLine(ann.Logs, `signup-guard: allowed "ann", sign-up 1`) || !hasCall(ann.HostCalls, "state_incr") {
			t.Errorf("run %d: ann = %+v; want allowed, measured (time, at least one page of memory), sign-up 1 logged, state_incr among the host calls", run, ann)
		}
		if eve.Decision != hook.DryRunRefuse || eve.Reason != "Sign-ups to this domain are open to addresses at acme.example only." || eve.Status != 1 {
			t.Errorf("run %d: eve = %+v; want refused with the allow-list's reason", run, eve)
		}
		if bob.Decision != hook.DryRunRefuse || bob.Reason != "This domain takes no more sign-ups (its limit is 1)." {
			t.Errorf("run %d: bob = %+v; want refused past the bound (the count kept in memory)", run, bob)
		}
	}
	if n := count.n.Load(); n != 0 {
		t.Errorf("%d counts; a dry run counts nothing", n)
	}
}

// TestDryRunSignupFailures: a candidate that cannot decide (the guard
// without its config) is an "error" result, not an error of the dry run;
// a module without the export says so ("no_export"); a sign-up can be
// run alone, without events.
func TestDryRunSignupFailures(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	su := []hook.DryRunSignup{{Username: "ann", Domain: "acme", Email: "ann@acme.example"}}
	guard := wasmscript.Spec{Domain: "acme", Path: plugintest.Build(t, signupGuard), Settings: wasmscript.Settings{Timeout: testTimeout, State: true}}
	rep, err := h.DryRunReport(context.Background(), guard, wasmscript.DryRunInput{Signups: su})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 0 || len(rep.Signups) != 1 || rep.Signups[0].Decision != hook.DryRunError ||
		!strings.Contains(rep.Signups[0].Error, `"allow" (the e-mail domains that may sign up) is missing`) {
		t.Errorf("guard without config: %+v; want one error result naming the missing allow-list", rep)
	}
	rep, err = h.DryRunReport(context.Background(), wasmscript.Spec{Domain: "acme", Path: fixture(t, "ok"), Settings: wasmscript.Settings{Timeout: testTimeout}},
		wasmscript.DryRunInput{Signups: su})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signups) != 1 || rep.Signups[0].Decision != hook.DryRunNoExport || !strings.Contains(rep.Signups[0].Error, "hookd_v1_on_signup") {
		t.Errorf("module without the export: %+v", rep.Signups)
	}
}

func hasLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func hasCall(calls []hook.DryRunHostCall, fn string) bool {
	for _, c := range calls {
		if c.Function == fn {
			return true
		}
	}
	return false
}

package runtime_test

import (
	"context"
	"os"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/storetest"
)

// guardSettings are the signup-guard example's settings as a version's:
// state on, acme.example addresses only, at most one sign-up.
const guardSettings = `{"plugin": {"state": true}, "config": {"allow": ["acme.example"], "max": 1}}`

// TestDomainDryRunSignups: a domain owner dry-runs a stored version that
// is not active (the signup-guard example) on sign-ups alone, without a
// recorded event: each is answered with the plugin's decision, the
// count it keeps is in memory only (a second dry run decides the same),
// and nothing is stored or activated. Sign-ups that are not the domain's,
// or without a username, are refused naming them.
func TestDomainDryRunSignups(t *testing.T) {
	ctx := context.Background()
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)))
	op := hook.Operator()
	guard, err := os.ReadFile(plugintest.Build(t, signupGuard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PushPlugin(ctx, op, "7", guard, []byte(guardSettings), false); err != nil {
		t.Fatal(err)
	}
	tok, err := rt.CreateDomainToken(ctx, op, "7", "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := rt.AuthenticateDomainToken(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	req := hook.DryRunRequest{Version: 1, Signups: []hook.DryRunSignup{
		{Username: "ann", Email: "ann@acme.example", Language: "de"},
		{Username: "eve", Domain: "7", Email: "eve@elsewhere.example"},
		{Username: "bob", Email: "bob@acme.example"},
	}}
	for run := range 2 {
		rep, err := rt.DryRunPlugin(ctx, owner, "7", req)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Results == nil || len(rep.Results) != 0 || len(rep.Signups) != 3 {
			t.Fatalf("run %d: %+v; want no event and 3 sign-ups", run, rep)
		}
		got := []string{}
		for _, s := range rep.Signups {
			got = append(got, s.Signup.Username+" "+s.Signup.Domain+" "+s.Decision+" "+s.Reason)
		}
		want := []string{"ann 7 allow ", "eve 7 refuse Sign-ups to this domain are open to addresses at acme.example only.",
			"bob 7 refuse This domain takes no more sign-ups (its limit is 1)."}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("run %d: sign-up %d = %q, want %q", run, i, got[i], want[i])
			}
		}
		if len(rep.Signups[0].Logs) == 0 || rep.Signups[0].Duration <= 0 {
			t.Errorf("run %d: ann's result has no logs or time: %+v", run, rep.Signups[0])
		}
	}
	if res, err := rt.TestPlugin(ctx, op, "7", req); err != nil || len(res) != 0 {
		t.Errorf("TestPlugin (events only) = %+v, %v", res, err)
	}
	vs, err := rt.PluginVersions(ctx, op, "7")
	if err != nil || len(vs) != 1 || vs[0].Active {
		t.Errorf("versions after dry runs: %+v, %v; want the one pushed, not active", vs, err)
	}

	_, err = rt.DryRunPlugin(ctx, op, "7", hook.DryRunRequest{Version: 1, Signups: []hook.DryRunSignup{{Username: "x", Domain: "8"}}})
	mustErr(t, err, hook.ErrInvalid, `signups[0].domain: "8" is not the domain tested ("7")`)
	_, err = rt.DryRunPlugin(ctx, op, "7", hook.DryRunRequest{Version: 1, Signups: []hook.DryRunSignup{{Email: "x@acme.example"}}})
	mustErr(t, err, hook.ErrInvalid, "signups[0].username: empty")
	_, err = rt.DryRunPlugin(ctx, owner, "8", req)
	mustErr(t, err, hook.ErrNotFound, "")
}

package runtime_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/storetest"
)

// TestDomainDryRunSignupLanguage: a dry run's sign-up reaches the
// candidate with the language a live sign-up's plugin reads
// (webapi.Service.SignupLanguage): "de-AT" as "de", none as the
// configured [webapi] language, and, without a [webapi] section, the
// default one. The SDK's sign-up guest refuses "echo" with the fields it
// read as its reason; each result shows the language it was asked in.
func TestDomainDryRunSignupLanguage(t *testing.T) {
	ctx := context.Background()
	guest, err := os.ReadFile(plugintest.Build(t, signupGuest))
	if err != nil {
		t.Fatal(err)
	}
	signups := []hook.DryRunSignup{
		{Username: "echo", Email: "ann@acme.example", Language: "de-AT"},
		{Username: "echo", Email: "bob@acme.example"},
	}
	for _, tc := range []struct {
		name string
		svc  *webapi.Service
		want []string // each sign-up's language, as read
	}{
		{"webapi language sl", &webapi.Service{URL: newAccounts(t).URL, UseSignup: true, Language: "sl"}, []string{"de", "sl"}},
		{"no webapi", nil, []string{"de", webapi.DefaultLanguage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := domainsConfig(t, storetest.SQLite(t))
			if tc.svc != nil {
				cfg.Modules[webapi.ID] = tc.svc
			}
			rt := openDomains(t, cfg)
			if _, err := rt.PushPlugin(ctx, hook.Operator(), "7", guest, nil, false); err != nil {
				t.Fatal(err)
			}
			rep, err := rt.DryRunPlugin(ctx, hook.Operator(), "7", hook.DryRunRequest{Version: 1, Signups: signups})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signups) != len(tc.want) {
				t.Fatalf("%d sign-up results, want %d: %+v", len(rep.Signups), len(tc.want), rep.Signups)
			}
			for i, want := range tc.want {
				r := rep.Signups[i]
				if r.Decision != hook.DryRunRefuse || !strings.Contains(r.Reason, ";language="+want+";") || r.Signup.Language != want {
					t.Errorf("sign-up %d (language %q): %s %q, shown with language %q; want the plugin to read language=%s",
						i, signups[i].Language, r.Decision, r.Reason, r.Signup.Language, want)
				}
			}
		})
	}
}

package examples_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/wasmhost"
)

const signupGuard = "github.com/hookrt/hookd/plugins/examples/signup-guard"

// signup is a sign-up's fields, as hookd hands them to hookd_v1_on_signup.
func signup(user, email string) map[string]string {
	return map[string]string{hostapi.SignupUsername: user, hostapi.SignupDomain: "acme", hostapi.SignupEmail: email,
		hostapi.SignupFullName: "Ann Example", hostapi.SignupLanguage: "en"}
}

// decide asks p about a sign-up and fails the test on an error.
func decide(t *testing.T, p *wasmhost.Plugin, user, email string) (decided, allow bool, reason string) {
	t.Helper()
	out, err := p.CallSignup(context.Background(), signup(user, email))
	if err != nil {
		t.Fatalf("%s <%s>: %v; logs %v", user, email, err, out.Logs)
	}
	decided, allow, reason, err = wasmhost.SignupVerdict(out)
	if err != nil {
		t.Fatalf("%s <%s>: %v; logs %v", user, email, err, out.Logs)
	}
	return decided, allow, reason
}

// TestSignupGuard: the allow-list admits its domains and their
// subdomains, case aside; other addresses are refused with the
// configured reason; the count of allowed sign-ups is kept in the
// plugin's state, bounds them, and is shared by every instance.
func TestSignupGuard(t *testing.T) {
	t.Parallel()
	st := store.NewMemoryState()
	p := plugintest.Load(t, plugintest.Build(t, signupGuard), wasmhost.Limits{Instances: 2},
		rateGrants(t, st, `{"allow": ["Example.com", "@partner.example"], "max": 3, "message": "Use your work address."}`))
	if !p.HasSignup() {
		t.Fatal("HasSignup is false for a plugin that exports hookd_v1_on_signup")
	}
	for _, email := range []string{"ann@example.com", "BOB@EXAMPLE.COM", "cy@eu.partner.example"} {
		if decided, allow, reason := decide(t, p, "u", email); !decided || !allow {
			t.Errorf("<%s>: decided %v allow %v (%q), want allowed", email, decided, allow, reason)
		}
	}
	for _, email := range []string{"dan@example.org", "eve@notexample.com", "no-at-sign", ""} {
		if decided, allow, reason := decide(t, p, "u", email); !decided || allow || reason != "Use your work address." {
			t.Errorf("<%s>: decided %v allow %v (%q), want refused with the configured reason", email, decided, allow, reason)
		}
	}
	// The fourth allowed address is over max = 3: refused, and the count
	// stays at 3.
	decided, allow, reason := decide(t, p, "fay", "fay@example.com")
	if !decided || allow || reason != "This domain takes no more sign-ups (its limit is 3)." {
		t.Errorf("over the bound: decided %v allow %v (%q)", decided, allow, reason)
	}
	if v, err := st.Get(context.Background(), "acme", "signup-guard/allowed"); err != nil || string(v) != "3" {
		t.Errorf("the count in state: %q, %v; want 3", v, err)
	}
}

// TestSignupGuardConcurrent: sign-ups decided at once on several
// instances are counted exactly, none lost and none over the bound.
func TestSignupGuardConcurrent(t *testing.T) {
	t.Parallel()
	st := store.NewMemoryState()
	p := plugintest.Load(t, plugintest.Build(t, signupGuard), wasmhost.Limits{Instances: 3},
		rateGrants(t, st, `{"allow": ["example.com"], "max": 10}`))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 16 {
		wg.Go(func() {
			out, err := p.CallSignup(context.Background(), signup("u", "u@example.com"))
			_, allow, _, verr := wasmhost.SignupVerdict(out)
			if err != nil || verr != nil {
				t.Errorf("%v %v; logs %v", err, verr, out.Logs)
			}
			if allow {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Errorf("%d sign-ups allowed, want exactly the bound, 10", allowed)
	}
}

// TestSignupGuardCannotDecide: a config the plugin cannot use, or no
// state, is "could not decide" (status 3 with the reason as the message),
// which hookd turns into a refusal; the handler of events still answers.
func TestSignupGuardCannotDecide(t *testing.T) {
	t.Parallel()
	wasm := plugintest.Build(t, signupGuard)
	for _, tc := range []struct {
		g    hostfn.Grants
		want string
	}{
		{rateGrants(t, store.NewMemoryState(), `{"allow": []}`), `signup-guard: invalid config: "allow" (the e-mail domains that may sign up) is missing`},
		{rateGrants(t, store.NewMemoryState(), `{"allow": ["a b"], "max": -1}`), `allow[0] "a b" is not an e-mail domain like "example.com"; "max"`},
		{hostfn.Grants{Config: []byte(`{"allow": ["example.com"]}`)}, "signup-guard: the plugin has no state: set state = true in its [domain.plugin]"},
	} {
		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, tc.g)
		out, err := p.CallSignup(context.Background(), signup("u", "u@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, verr := wasmhost.SignupVerdict(out)
		if verr == nil || !errors.Is(verr, wasmhost.ErrRefused) || !strings.Contains(verr.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", verr, tc.want)
		}
		if out, err := p.Call(context.Background(), plugintest.Event(nil)); err != nil || out.Status != 0 || out.Reply != nil {
			t.Errorf("an event: %v, status %d, reply %q; want <nomessage/>", err, out.Status, out.Reply)
		}
	}
}

// TestSignupAbstains: a Go plugin that registered no sign-up handler
// still exports hookd_v1_on_signup (it is the SDK's) and abstains.
func TestSignupAbstains(t *testing.T) {
	t.Parallel()
	p := load(t, rateLimit, rateGrants(t, store.NewMemoryState(), rateConfig))
	if decided, _, _ := decide(t, p, "u", "u@example.com"); decided {
		t.Error("a plugin without a sign-up handler decided")
	}
}

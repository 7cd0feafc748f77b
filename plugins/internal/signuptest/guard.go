package signuptest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// The signup-guard example's scenarios, which its Go original
// (plugins/examples/signup-guard) and its AssemblyScript port
// (plugins/examples-as/signup-guard) both pass: same config, same
// answers, same messages.

// guardGrants grants state over st to domain "acme", and the config cfg.
func guardGrants(t *testing.T, st hook.StateStore, cfg string) hostfn.Grants {
	t.Helper()
	s, err := hostfn.NewState(st, "acme", hook.StateLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return hostfn.Grants{Config: json.RawMessage(cfg), State: s}
}

func guardFields(user, email string) map[string]string {
	return map[string]string{hostapi.SignupUsername: user, hostapi.SignupDomain: "acme", hostapi.SignupEmail: email,
		hostapi.SignupFullName: "Ann Example", hostapi.SignupLanguage: "en"}
}

// RunGuard runs the signup-guard scenarios on the module build(t, path).
func RunGuard(t *testing.T, build func(testing.TB, string) string, path string) {
	wasm := build(t, path)
	ctx := context.Background()
	decide := func(t *testing.T, p *wasmhost.Plugin, user, email string) (decided, allow bool, reason string) {
		t.Helper()
		out, err := p.CallSignup(ctx, guardFields(user, email))
		if err != nil {
			t.Fatalf("%s <%s>: %v; logs %v", user, email, err, out.Logs)
		}
		decided, allow, reason, err = wasmhost.SignupVerdict(out)
		if err != nil {
			t.Fatalf("%s <%s>: %v; logs %v", user, email, err, out.Logs)
		}
		return decided, allow, reason
	}

	// The allow-list admits its domains and their subdomains, case
	// aside; other addresses are refused with the configured reason; the
	// count of allowed sign-ups is kept in the plugin's state and bounds
	// them.
	t.Run("allow-list", func(t *testing.T) {
		t.Parallel()
		st := store.NewMemoryState()
		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 2},
			guardGrants(t, st, `{"allow": ["Example.com", "@partner.example"], "max": 3, "message": "Use your work address."}`))
		if !p.HasSignup() {
			t.Fatal("HasSignup is false")
		}
		for _, email := range []string{"ann@example.com", " BOB@EXAMPLE.COM", "cy@eu.partner.example"} {
			if decided, allow, reason := decide(t, p, "u", email); !decided || !allow {
				t.Errorf("<%s>: decided %v allow %v (%q), want allowed", email, decided, allow, reason)
			}
		}
		for _, email := range []string{"dan@example.org", "eve@notexample.com", "no-at-sign", "@example.com", ""} {
			if decided, allow, reason := decide(t, p, "u", email); !decided || allow || reason != "Use your work address." {
				t.Errorf("<%s>: decided %v allow %v (%q), want refused with the configured reason", email, decided, allow, reason)
			}
		}
		// The fourth allowed address is over max = 3: refused, and the
		// count stays at 3.
		decided, allow, reason := decide(t, p, "fay", "fay@example.com")
		if !decided || allow || reason != "This domain takes no more sign-ups (its limit is 3)." {
			t.Errorf("over the bound: decided %v allow %v (%q)", decided, allow, reason)
		}
		if v, err := st.Get(ctx, "acme", "signup-guard/allowed"); err != nil || string(v) != "3" {
			t.Errorf("the count in state: %q, %v; want 3", v, err)
		}
		q := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, guardGrants(t, store.NewMemoryState(), `{"allow": ["a.example", "b.example"]}`))
		if _, _, reason := decide(t, q, "u", "u@c.example"); reason != "Sign-ups to this domain are open to addresses at a.example, b.example only." {
			t.Errorf("default message: %q", reason)
		}
	})

	// Sign-ups decided at once on several instances are counted exactly,
	// none lost and none over the bound.
	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 3}, guardGrants(t, store.NewMemoryState(), `{"allow": ["example.com"], "max": 10}`))
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
		)
		for range 16 {
			wg.Go(func() {
				out, err := p.CallSignup(ctx, guardFields("u", "u@example.com"))
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
	})

	// A config the plugin cannot use, or no state, is "could not decide"
	// with the reason as the message, which hookd turns into a refusal;
	// the handler of events still answers.
	t.Run("cannot decide", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			g    hostfn.Grants
			want string
		}{
			{guardGrants(t, store.NewMemoryState(), `{"allow": []}`), `signup-guard: invalid config: "allow" (the e-mail domains that may sign up) is missing`},
			{guardGrants(t, store.NewMemoryState(), `{"allow": ["a b"], "max": -1}`), `signup-guard: invalid config: allow[0] "a b" is not an e-mail domain like "example.com"; "max" (sign-ups allowed in all, 0 for no bound) must not be negative, got -1`},
			{guardGrants(t, store.NewMemoryState(), `{"allow": ["a.example"], "bound": 1}`), `signup-guard: invalid config: pdk: config: unknown field "bound"`},
			{hostfn.Grants{Config: []byte(`{"allow": ["example.com"]}`)}, "signup-guard: the plugin has no state: set state = true in its [domain.plugin]"},
		} {
			p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, tc.g)
			out, err := p.CallSignup(ctx, guardFields("u", "u@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, verr := wasmhost.SignupVerdict(out)
			if verr == nil || !errors.Is(verr, wasmhost.ErrRefused) || !strings.HasSuffix(verr.Error(), ": "+tc.want) {
				t.Errorf("error %v, want one ending in %q", verr, tc.want)
			}
			if out, err := p.Call(ctx, plugintest.Event(nil)); err != nil || out.Status != 0 || out.Reply != nil {
				t.Errorf("an event: %v, status %d, reply %q; want <nomessage/>", err, out.Status, out.Reply)
			}
		}
	})
}

package portal

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/webui/webuitest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// The runtime satisfies the portal's Backend: cmd/hookd mounts
// portal.New(rt, …).
var _ Backend = (*hookrt.Runtime)(nil)

// env is a real runtime on a SQLite file with two stored domains, alpha
// and beta, each with a token, and the portal over it on a loopback
// server. Beta has three plugin versions (the first active), a dead
// letter, a delivered event whose plugin call logged a warning, and a
// session record; alpha has whatever its test gives it.
type env struct {
	t      *testing.T
	rt     *hookrt.Runtime
	obs    *hooktest.Observations
	srv    *httptest.Server
	guard  []byte // the session-guard plugin's module
	tokA   string
	tokB   string
	betaEv []string // beta's event ids
	// betaDead and betaDelivered are beta's delivery ids.
	betaDead, betaDelivered []int64
	betaSHA                 string
}

// The marks of beta's data: none may appear on a page of alpha's.
const (
	betaMark    = "BETA-PRIVATE-7f3a"
	betaSession = "beta-session-9d2c"
	betaTokName = "beta-ci-token"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t}
	path := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
	var err error
	if e.guard, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	// A failed delivery is dead at once.
	logger := testruntime.Logger()
	e.rt, e.obs = testruntime.Open(t, fmt.Sprintf(`
[store]
path = "hookd.db"
%s%s[plugins]
cache_dir = %q
`, testruntime.DeadAtOnce, testruntime.PerDomainEvents, plugintest.CacheDir(t)), testruntime.Options{}, hookrt.WithLogger(logger))
	ctx, op := t.Context(), hook.Operator()
	tok, err := e.rt.CreateDomainToken(ctx, op, "alpha", "alpha-owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.tokA = tok.Secret
	if tok, err = e.rt.CreateDomainToken(ctx, op, "beta", betaTokName, 0); err != nil {
		t.Fatal(err)
	}
	e.tokB = tok.Secret
	beta := hook.Principal{Domain: "beta", TokenID: tok.ID, TokenName: tok.Name}
	e.srv = httptest.NewServer(New(e.rt, Options{Logger: logger}))
	t.Cleanup(e.srv.Close)

	// Beta's history: version 1 (stored), version 2 without its secret
	// (active: a NEWSESSION fails for good, dead), version 1 again (a
	// NEWSESSION from an address that is no IP: a warning in its log,
	// delivered), version 3 (stored).
	good := []byte(`{"config":{"block":["10.0.0.0/8"],"secret":"` + betaMark + `"}}`)
	noSecret := []byte(`{"config":{"block":["10.0.0.0/8"]}}`)
	push := func(settings []byte, activate bool) {
		t.Helper()
		pv, err := e.rt.PushPlugin(ctx, beta, "beta", e.guard, settings, activate)
		if err != nil {
			t.Fatalf("beta's version: %v", err)
		}
		e.betaSHA = pv.SHA256
	}
	const bt = "http_events.domain.beta"
	emit := func(state hook.DeliveryState, addr string) {
		t.Helper()
		id, err := e.rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "beta",
			"SESSIONID": betaSession, "NOTE": betaMark, "reasonAddress": addr})
		if err != nil {
			t.Fatal(err)
		}
		e.betaEv = append(e.betaEv, id)
		obs := e.obs.Wait(t, "beta's "+string(state)+" delivery", func(obs []hook.Observation) bool {
			for _, ob := range obs {
				if ob.EventID == id && ob.Target == bt && ob.State == state {
					return true
				}
			}
			return false
		})
		for _, ob := range obs {
			if ob.EventID == id && ob.Target == bt && ob.State == state {
				if state == hook.StateDead {
					e.betaDead = append(e.betaDead, ob.DeliveryID)
				} else {
					e.betaDelivered = append(e.betaDelivered, ob.DeliveryID)
				}
				break
			}
		}
	}
	push(good, false)
	push(noSecret, true)
	emit(hook.StateDead, "192.0.2.1")
	if _, err := e.rt.ActivatePlugin(ctx, beta, "beta", 1); err != nil {
		t.Fatal(err)
	}
	emit(hook.StateDelivered, "bogus-"+betaMark)
	push(good, false)
	return e
}

// betaState is what alpha's requests must not change of beta's: its
// deliveries' states and attempts, its versions and the active one, its
// stored spec's revision.
func (e *env) betaState() string {
	e.t.Helper()
	ctx, op := e.t.Context(), hook.Operator()
	var b strings.Builder
	ds, err := e.rt.ListDeliveries(ctx, hook.DeliveryFilter{Target: "http_events.domain.beta"})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range ds {
		fmt.Fprintf(&b, "delivery %d %s %d; ", d.ID, d.State, d.Attempts)
	}
	vs, err := e.rt.PluginVersions(ctx, op, "beta")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, v := range vs {
		fmt.Fprintf(&b, "version %d active %v; ", v.Version, v.Active)
	}
	info, err := e.rt.Domain(ctx, op, "beta")
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "revision %d %s", info.Revision, info.Spec)
	return b.String()
}

// client is a browser stand-in on the portal (webuitest's, which the
// admin page's tests share): it keeps cookies, does not follow redirects
// (tests look at them), and sends Origin with its POSTs.
func (e *env) client() *webuitest.Client {
	return &webuitest.Client{T: e.t, Base: e.srv.URL, HTTP: webuitest.NewHTTPClient()}
}

// waitLog waits until domain's plugin log, as the runtime merges it from
// every node's flushed rows, has a line containing text.
func (e *env) waitLog(t *testing.T, domain, text string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		lines, err := e.rt.PluginLogs(t.Context(), hook.Operator(), domain, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.Contains(l.Line, text) {
				return
			}
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("domain %s's plugin log never had %q: %+v", domain, text, lines)
		case <-tick.C:
		}
	}
}

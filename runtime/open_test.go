package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// stateProbe is a module that uses the plugins' state store while it is
// provisioned, as a plugin's hookd_v1_init may, and notes what it saw.
type stateProbe struct {
	count  int64
	signup bool
	err    error
}

func (p *stateProbe) Targets() []hook.Target { return nil }

func (p *stateProbe) Provision(ctx context.Context, env hook.Env) error {
	if env.State == nil {
		return errors.New("no state store")
	}
	p.count, p.err = env.State.Incr(ctx, "probe", "starts", 1, 0, hook.StateLimits{MaxValue: 64, MaxKeys: 10, MaxBytes: 1 << 10})
	p.signup = env.Signup != nil
	return p.err
}

// probeSection is the config section of a probe of a config's section: Open provisions a
// copy of the config's value, so the probe reports through a pointer.
type probeSection struct{ seen *stateProbe }

func (s *probeSection) Targets() []hook.Target { return nil }

func (s *probeSection) Provision(ctx context.Context, env hook.Env) error {
	return s.seen.Provision(ctx, env)
}

// TestOpenProvisionsWithTheStore: Open opens the store before it
// provisions the modules, so that a module (a plugin's hookd_v1_init) can
// use its durable state from the start, and gives them the sign-up
// decider; the state survives a restart. Check provisions with state in
// memory, so that it accepts what Open accepts without touching the store.
func TestOpenProvisionsWithTheStore(t *testing.T) {
	storetest.Run(t, testOpenProvisionsWithTheStore)
}

func testOpenProvisionsWithTheStore(t *testing.T, st hookrt.StoreConfig) {
	ctx := context.Background()
	for want := int64(1); want <= 2; want++ {
		probe := &stateProbe{}
		cfg := testConfig(st)
		cfg.Modules = map[string]hook.Module{"probe": &probeSection{seen: probe}}
		rt, err := hookrt.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open %d: %v", want, err)
		}
		if err := rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if probe.count != want || !probe.signup {
			t.Errorf("open %d: provisioned with state count %d (want %d), a sign-up decider: %v", want, probe.count, want, probe.signup)
		}
	}
	probe := &stateProbe{}
	cfg := testConfig(st)
	cfg.Modules = map[string]hook.Module{"probe": &probeSection{seen: probe}}
	if _, err := hookrt.Check(ctx, cfg); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if probe.count != 1 {
		t.Errorf("Check's state: count %d, want 1 (in memory, not the store's 2)", probe.count)
	}
}

// meter is a module that owns a metric: it registers it in Env.Metrics at
// Provision and counts once.
type meter struct{}

func (meter) Targets() []hook.Target { return nil }

func (*meter) Provision(_ context.Context, env hook.Env) error {
	c, err := metrics.Counter(env.Metrics, "hookd_test_module_total", "A module's own metric.")
	if err != nil {
		return err
	}
	c.WithLabelValues().Inc()
	return nil
}

// TestModulesOwnTheirMetrics: a module's own metrics, registered through
// Env.Metrics, are served with the runtime's (the kernel lists none).
func TestModulesOwnTheirMetrics(t *testing.T) {
	cfg := testConfig(storetest.SQLite(t))
	cfg.Modules = map[string]hook.Module{"meter": &meter{}}
	rt := open(t, cfg)
	want := `
# HELP hookd_test_module_total A module's own metric.
# TYPE hookd_test_module_total counter
hookd_test_module_total 1
`
	if err := testutil.GatherAndCompare(rt.MetricsGatherer(), strings.NewReader(want), "hookd_test_module_total"); err != nil {
		t.Error(err)
	}
}

package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

func TestObserve(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Version: "v1", GoVersion: "go"})
	ctx := context.Background()
	emitted := time.Now().Add(-2 * time.Second)
	obs := []hook.Observation{
		{Target: "jwt_webhook", State: hook.StateDelivered, Attempt: 1, Latency: 3 * time.Millisecond, At: emitted.Add(time.Millisecond), EventAt: emitted},
		{Target: "http_events.domain.7", State: hook.StateRetrying, Attempt: 1, Latency: time.Second, At: emitted, EventAt: emitted},
		{Target: "http_events.domain.8", State: hook.StateDead, Attempt: 3, Latency: time.Second, At: emitted, EventAt: emitted},
		{Target: "http_events.domain.8", State: hook.StateDead, Reason: "older than the maximum age"}, // no attempt
	}
	for _, o := range obs {
		m.Observe(ctx, o)
	}
	want := `
# HELP hookd_delivery_attempts_total Delivery attempts, by the state they left the delivery in: delivered, retrying or dead.
# TYPE hookd_delivery_attempts_total counter
hookd_delivery_attempts_total{outcome="dead",target_kind="http_events.domain"} 1
hookd_delivery_attempts_total{outcome="delivered",target_kind="jwt_webhook"} 1
hookd_delivery_attempts_total{outcome="retrying",target_kind="http_events.domain"} 1
# HELP hookd_delivery_dead_total Deliveries that went to the dead-letter list, with or without an attempt.
# TYPE hookd_delivery_dead_total counter
hookd_delivery_dead_total{target_kind="http_events.domain"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"hookd_delivery_attempts_total", "hookd_delivery_dead_total"); err != nil {
		t.Error(err)
	}
	// Two first attempts timed from the emit; one delivered.
	if n := testutil.CollectAndCount(m.Registry(), "hookd_delivery_first_attempt_delay_seconds"); n != 2 {
		t.Errorf("first-attempt histograms: %d series, want 2 (one per kind)", n)
	}
	if got := histogramCount(t, m, "hookd_delivery_delivered_delay_seconds"); got != 1 {
		t.Errorf("delivered delays observed: %d, want 1", got)
	}
}

func TestPerTarget(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{PerTarget: true})
	m.Observe(context.Background(), hook.Observation{Target: "http_events.domain.7", State: hook.StateDelivered, Attempt: 1, Latency: time.Millisecond})
	want := `
# HELP hookd_delivery_attempts_total Delivery attempts, by the state they left the delivery in: delivered, retrying or dead.
# TYPE hookd_delivery_attempts_total counter
hookd_delivery_attempts_total{outcome="delivered",target="http_events.domain.7",target_kind="http_events.domain"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_delivery_attempts_total"); err != nil {
		t.Error(err)
	}
}

// TestModulesRegisterTheirOwn: a module's vectors land in the runtime's
// registry; a second registration of the same vector (a module
// provisioned twice) shares the first one's counts; anything but a
// collector is refused by name; without a registry the vector still counts.
func TestModulesRegisterTheirOwn(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{PerTarget: true})
	reg := m.Modules()
	if !reg.PerTarget() {
		t.Error("PerTarget() = false with per_target on")
	}
	a, err := metrics.Counter(reg, "hookd_test_calls_total", "Test calls.", "outcome")
	if err != nil {
		t.Fatal(err)
	}
	b, err := metrics.Counter(reg, "hookd_test_calls_total", "Test calls.", "outcome")
	if err != nil || a != b {
		t.Fatalf("second registration: %p, %v; want the first vector %p", b, err, a)
	}
	a.WithLabelValues("ok").Inc()
	b.WithLabelValues("ok").Inc()
	want := `
# HELP hookd_test_calls_total Test calls.
# TYPE hookd_test_calls_total counter
hookd_test_calls_total{outcome="ok"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_test_calls_total"); err != nil {
		t.Error(err)
	}
	if _, err := metrics.Counter(reg, "hookd_test_calls_total", "Other help.", "kind"); err == nil {
		t.Error("a vector of the same name with other labels was accepted")
	}
	if err := reg.Register("not a collector"); err == nil || !strings.Contains(err.Error(), "a module registered a string, not a prometheus.Collector") {
		t.Errorf("Register(string) = %v", err)
	}
	h, err := metrics.Histogram(nil, "hookd_test_seconds", "Test.", metrics.LatencyBuckets)
	if err != nil || h == nil {
		t.Fatalf("Histogram without a registry: %v, %v", h, err)
	}
	h.WithLabelValues().Observe(1)
}

// TestEventLabelsBounded: MODULE and EVENT come from requests; past the
// bound every new pair is counted as other/other.
func TestEventLabelsBounded(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	for i := range 150 {
		m.Event("ISL_CP", fmt.Sprintf("EVENT_%d", i))
	}
	m.Event("ISL_CP", "EVENT_0") // seen: keeps its own series
	if n := testutil.CollectAndCount(m.Registry(), "hookd_events_received_total"); n != 101 {
		t.Errorf("%d series, want 100 pairs and other/other", n)
	}
}

// fakeSource counts its reads.
type fakeSource struct {
	reads atomic.Int64
	err   error
}

func (s *fakeSource) Snapshot(context.Context) (metrics.Snapshot, error) {
	s.reads.Add(1)
	return metrics.Snapshot{Deliveries: map[string]int64{"pending": 3, "retrying": 1, "dead": 2},
		OldestPending: 90 * time.Second, Targets: map[string]int64{"enabled": 2, "paused": 1},
		BreakersOpen: 1, Jobs: map[string]int64{"available": 4}}, s.err
}

// TestStoreFigures: the store is read once per TTL however often the
// registry is gathered, and its figures become gauges.
func TestStoreFigures(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	m := metrics.New(metrics.Options{Source: src, SourceTTL: time.Hour})
	for range 5 {
		if _, err := m.Registry().Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("the store was read %d times for 5 scrapes within the TTL, want 1", n)
	}
	want := `
# HELP hookd_deliveries Deliveries waiting (pending, retrying) and dead letters, from the store.
# TYPE hookd_deliveries gauge
hookd_deliveries{state="dead"} 2
hookd_deliveries{state="pending"} 3
hookd_deliveries{state="retrying"} 1
# HELP hookd_delivery_oldest_pending_age_seconds Age of the oldest delivery not yet made (pending or retrying); 0 when none.
# TYPE hookd_delivery_oldest_pending_age_seconds gauge
hookd_delivery_oldest_pending_age_seconds 90
# HELP hookd_targets_breaker_open Targets whose circuit breaker is open on this node.
# TYPE hookd_targets_breaker_open gauge
hookd_targets_breaker_open 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"hookd_deliveries", "hookd_delivery_oldest_pending_age_seconds", "hookd_targets_breaker_open"); err != nil {
		t.Error(err)
	}

	// A store that fails says so, and keeps the last figures.
	bad := &fakeSource{err: errors.New("database is locked")}
	m = metrics.New(metrics.Options{Source: bad})
	want = `
# HELP hookd_store_metrics_up 1 if the store answered the last read of these figures, 0 if not (they are then the last known).
# TYPE hookd_store_metrics_up gauge
hookd_store_metrics_up 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_store_metrics_up"); err != nil {
		t.Error(err)
	}
}

func histogramCount(t *testing.T, m *metrics.Metrics, name string) uint64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, mm := range mf.GetMetric() {
				n += mm.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// TestPluginGauges: the plugins' pools, summed by default, by domain with
// PerTarget; read at each scrape.
func TestPluginGauges(t *testing.T) {
	t.Parallel()
	plugins := []hook.PluginStatus{{Domain: "5", Instances: 4}, {Domain: "7", Instances: 1}}
	src := func() []hook.PluginStatus { return plugins }
	for _, tc := range []struct {
		perTarget bool
		want      string
	}{
		{false, `
# HELP hookd_plugin_instances Warm instances in the WASM plugins' pools.
# TYPE hookd_plugin_instances gauge
hookd_plugin_instances 5
# HELP hookd_plugins WASM plugins loaded.
# TYPE hookd_plugins gauge
hookd_plugins 2
`},
		{true, `
# HELP hookd_plugin_instances Warm instances in the WASM plugins' pools.
# TYPE hookd_plugin_instances gauge
hookd_plugin_instances{domain="5"} 4
hookd_plugin_instances{domain="7"} 1
# HELP hookd_plugins WASM plugins loaded.
# TYPE hookd_plugins gauge
hookd_plugins 2
`},
	} {
		m := metrics.New(metrics.Options{PerTarget: tc.perTarget, Plugins: src})
		if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(tc.want), "hookd_plugins", "hookd_plugin_instances"); err != nil {
			t.Errorf("per_target %v: %v", tc.perTarget, err)
		}
	}
}

package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookrt/hookd/internal/metrics"
)

// TestGaugeRegisteredOnce: Gauge, like Counter, gives a second caller
// (an engine opened again in the same runtime) the vector registered
// first, so that both move the one series the registry exposes.
func TestGaugeRegisteredOnce(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	reg := m.Modules()
	a, err := metrics.Gauge(reg, "hookd_test_waiting", "Test waiting.", "target_kind")
	if err != nil {
		t.Fatal(err)
	}
	b, err := metrics.Gauge(reg, "hookd_test_waiting", "Test waiting.", "target_kind")
	if err != nil || a != b {
		t.Fatalf("second registration: %p, %v; want the first vector %p", b, err, a)
	}
	a.WithLabelValues("jwt_webhook").Add(3)
	b.WithLabelValues("jwt_webhook").Dec()
	want := `
# HELP hookd_test_waiting Test waiting.
# TYPE hookd_test_waiting gauge
hookd_test_waiting{target_kind="jwt_webhook"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "hookd_test_waiting"); err != nil {
		t.Error(err)
	}
	if g, err := metrics.Gauge(nil, "hookd_test_waiting", "Test.", "target_kind"); err != nil || g == nil {
		t.Fatalf("Gauge without a registry: %v, %v", g, err)
	}
}

package webapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// callMetrics are the WebAPI's own metrics, registered in the runtime's
// registry (hook.Env.Metrics) at Provision: hookd_webapi_calls_total and
// hookd_webapi_call_duration_seconds, by kind (signup, forgot_password,
// notification, signup_plugin).
type callMetrics struct {
	calls *prometheus.CounterVec
	dur   *prometheus.HistogramVec
}

func newCallMetrics(reg hook.MetricsRegistry) (*callMetrics, error) {
	calls, err := metrics.Counter(reg, "hookd_webapi_calls_total",
		"External WebAPI (account/1) calls, by kind and outcome.", "kind", "outcome")
	if err != nil {
		return nil, err
	}
	dur, err := metrics.Histogram(reg, "hookd_webapi_call_duration_seconds",
		"How long one External WebAPI call took.", metrics.LatencyBuckets, "kind")
	if err != nil {
		return nil, err
	}
	return &callMetrics{calls: calls, dur: dur}, nil
}

// call counts one call of kind: its outcome ("ok", "refused", "failed",
// "not_delegated") and how long it took.
func (m *callMetrics) call(kind, outcome string, d time.Duration) {
	m.calls.WithLabelValues(kind, outcome).Inc()
	m.dur.WithLabelValues(kind).Observe(d.Seconds())
}

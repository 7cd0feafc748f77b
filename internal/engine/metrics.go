package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// engineMetrics are what the engine itself counts about the delivery
// settings it applies (issue 18): the rate limiter's refusals and the time
// deliveries wait for it, and the time ordered deliveries wait behind
// their key's earlier ones. Labelled by target kind (metrics.TargetKind),
// and by target too with [metrics] per_target.
type engineMetrics struct {
	perTarget bool
	// rateLimited counts attempts the rate limiter did not let go at once
	// (they waited, in place or as a job due later; none fails for it).
	rateLimited *prometheus.CounterVec
	// rateWait is how long attempts waited for the rate limiter.
	rateWait *prometheus.HistogramVec
	// orderWait is how long an ordered delivery waited, from its commit
	// to its first attempt, behind the earlier deliveries of its key.
	orderWait *prometheus.HistogramVec
}

// newEngineMetrics registers the engine's collectors in reg (nil: nobody
// gathers them).
func newEngineMetrics(reg hook.MetricsRegistry) (*engineMetrics, error) {
	m := &engineMetrics{}
	labels := []string{"target_kind"}
	if reg != nil && reg.PerTarget() {
		m.perTarget = true
		labels = append(labels, "target")
	}
	var err error
	if m.rateLimited, err = metrics.Counter(reg, "hookd_rate_limited_total",
		"Attempts the target's rate limit did not let go at once: they waited (deliveries never fail for the limit).", labels...); err != nil {
		return nil, err
	}
	if m.rateWait, err = metrics.Histogram(reg, "hookd_rate_limit_wait_seconds",
		"How long attempts waited for their target's rate limit.", metrics.LatencyBuckets, labels...); err != nil {
		return nil, err
	}
	if m.orderWait, err = metrics.Histogram(reg, "hookd_order_wait_seconds",
		"How long an ordered delivery waited, from its commit to its first attempt, behind the earlier deliveries of its key.", metrics.LatencyBuckets, labels...); err != nil {
		return nil, err
	}
	return m, nil
}

// labels returns the label values of target.
func (m *engineMetrics) labels(target string) []string {
	if m.perTarget {
		return []string{metrics.TargetKind(target), target}
	}
	return []string{metrics.TargetKind(target)}
}

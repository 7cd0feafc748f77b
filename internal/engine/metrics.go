package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// engineMetrics are what the engine itself counts about the delivery
// settings it applies (issue 18): the rate limiter's refusals and the time
// deliveries wait for it, and the time ordered deliveries wait behind
// their key's earlier ones; and about its burst queue (issue 19): what
// waits there, and what left it for River. Labelled by target kind
// (metrics.TargetKind), and by target too with [metrics] per_target.
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
	// burstWaiting is how many deliveries wait on the burst queue
	// (memqueue.go) for a slot: committed and leased, in this node's
	// memory only, so the store's gauges (hookd_deliveries pending) count
	// them but River's (hookd_queue_jobs) do not.
	burstWaiting *prometheus.GaugeVec
	// burstQueued counts deliveries that found no free slot and waited on
	// the burst queue: the rate against which burstToRiver is read.
	burstQueued *prometheus.CounterVec
	// burstToRiver counts queued deliveries that left the queue for a
	// River job instead of a slot, by reason: aged (waited queueAge: the
	// slots drain slower than the burst came), stop (still queued when the
	// engine stopped), target_replaced (their target left the set).
	burstToRiver *prometheus.CounterVec
}

// The reasons of hookd_burst_queue_to_river_total.
const (
	toRiverAged     = "aged"
	toRiverStop     = "stop"
	toRiverReplaced = "target_replaced"
)

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
	if m.burstWaiting, err = metrics.Gauge(reg, "hookd_burst_queue_deliveries",
		"Deliveries waiting in this node's memory (the burst queue) for a free delivery slot; committed and leased, not River jobs.", labels...); err != nil {
		return nil, err
	}
	if m.burstQueued, err = metrics.Counter(reg, "hookd_burst_queued_total",
		"Deliveries that found no free delivery slot and waited on the burst queue.", labels...); err != nil {
		return nil, err
	}
	if m.burstToRiver, err = metrics.Counter(reg, "hookd_burst_queue_to_river_total",
		"Deliveries that left the burst queue for a River job due now instead of a slot: aged (waited the queue's age bound), stop (queued when the engine stopped), target_replaced.",
		with(labels, "reason")...); err != nil {
		return nil, err
	}
	return m, nil
}

// with returns a new slice of labels followed by more.
func with(labels []string, more ...string) []string {
	return append(append([]string(nil), labels...), more...)
}

// burstSeries returns target's series of hookd_burst_queue_deliveries
// and hookd_burst_queued_total, and makes its series of
// hookd_burst_queue_to_river_total exist at 0 for each reason, so that a
// dashboard shows the handovers' rate as 0 rather than no data until the
// first one.
func (m *engineMetrics) burstSeries(target string) (waiting prometheus.Gauge, queued prometheus.Counter) {
	labels := m.labels(target)
	for _, why := range []string{toRiverAged, toRiverStop, toRiverReplaced} {
		m.burstToRiver.WithLabelValues(with(labels, why)...)
	}
	return m.burstWaiting.WithLabelValues(labels...), m.burstQueued.WithLabelValues(labels...)
}

// labels returns the label values of target.
func (m *engineMetrics) labels(target string) []string {
	if m.perTarget {
		return []string{metrics.TargetKind(target), target}
	}
	return []string{metrics.TargetKind(target)}
}

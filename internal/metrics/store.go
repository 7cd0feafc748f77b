package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Source gives the figures that live in the store, for a scrape.
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Snapshot is what the store says at one moment.
type Snapshot struct {
	// Deliveries counts the deliveries in each state that is not final
	// (pending, retrying) and the dead letters.
	Deliveries map[string]int64
	// OldestPending is the age of the oldest delivery still to be made
	// (pending or retrying); 0 when there is none.
	OldestPending time.Duration
	// Targets counts targets by state (enabled, paused, disabled), and
	// BreakersOpen those whose breaker is open on this node.
	Targets      map[string]int64
	BreakersOpen int64
	// BreakerOpen says, per target, whether its breaker is open on this
	// node (hookd_breaker_open, by target kind or by target).
	BreakerOpen map[string]bool
	// Jobs counts River's jobs by state (available, scheduled, running,
	// retryable): the queue of retries and of what the direct path could
	// not take.
	Jobs map[string]int64
}

// snapshotTimeout bounds the store's answer to one scrape.
const snapshotTimeout = 5 * time.Second

// storeCollector turns the Source's Snapshot into gauges, reading it at
// most once per ttl however often Prometheus scrapes: on SQLite, with one
// connection, a scrape must not compete with deliveries.
type storeCollector struct {
	src       Source
	ttl       time.Duration
	perTarget bool

	mu   sync.Mutex
	at   time.Time
	last Snapshot
	err  error

	deliveries, targets, jobs      *prometheus.Desc
	oldest, breakers, scrapeErrors *prometheus.Desc
	breakerOpen                    *prometheus.Desc
}

func newStoreCollector(src Source, ttl time.Duration, perTarget bool) *storeCollector {
	labels := []string{"target_kind"}
	if perTarget {
		labels = append(labels, "target")
	}
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &storeCollector{
		src: src, ttl: ttl, perTarget: perTarget,
		breakerOpen: prometheus.NewDesc("hookd_breaker_open",
			"Targets whose circuit breaker is open on this node, by target kind (or by target, 0 or 1, with per_target).", labels, nil),
		deliveries: prometheus.NewDesc("hookd_deliveries", "Deliveries waiting (pending, retrying) and dead letters, from the store.", []string{"state"}, nil),
		oldest:     prometheus.NewDesc("hookd_delivery_oldest_pending_age_seconds", "Age of the oldest delivery not yet made (pending or retrying); 0 when none.", nil, nil),
		targets:    prometheus.NewDesc("hookd_targets", "Targets by state: enabled, paused, disabled.", []string{"state"}, nil),
		breakers:   prometheus.NewDesc("hookd_targets_breaker_open", "Targets whose circuit breaker is open on this node.", nil, nil),
		jobs:       prometheus.NewDesc("hookd_queue_jobs", "River jobs by state: retries and deliveries the direct path did not take.", []string{"state"}, nil),
		scrapeErrors: prometheus.NewDesc("hookd_store_metrics_up",
			"1 if the store answered the last read of these figures, 0 if not (they are then the last known).", nil, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.deliveries, c.oldest, c.targets, c.breakers, c.breakerOpen, c.jobs, c.scrapeErrors} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.snapshot()
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErrors, prometheus.GaugeValue, up)
	for state, n := range s.Deliveries {
		ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestPending.Seconds())
	for state, n := range s.Targets {
		ch <- prometheus.MustNewConstMetric(c.targets, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.breakers, prometheus.GaugeValue, float64(s.BreakersOpen))
	c.collectBreakers(ch, s.BreakerOpen)
	for state, n := range s.Jobs {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), state)
	}
}

// snapshot returns the cached snapshot, refreshed when older than ttl; on
// an error, the last good one with the error.
func (c *storeCollector) snapshot() (Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	s, err := c.src.Snapshot(ctx)
	c.at, c.err = time.Now(), err
	if err == nil {
		c.last = s
	}
	return c.last, c.err
}

// collectBreakers reports hookd_breaker_open: per target (0 or 1) with
// per_target, else per target kind (how many of that kind are open), so
// that the per-domain targets make one series.
func (c *storeCollector) collectBreakers(ch chan<- prometheus.Metric, open map[string]bool) {
	one := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	if c.perTarget {
		for name, o := range open {
			ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, one(o), TargetKind(name), name)
		}
		return
	}
	kinds := map[string]float64{}
	for name, o := range open {
		kinds[TargetKind(name)] += one(o)
	}
	for kind, n := range kinds {
		ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, n, kind)
	}
}

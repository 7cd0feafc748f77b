package runtime

import (
	"context"
	"net/http"
	goruntime "runtime"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// Metrics serves the runtime's Prometheus metrics (the daemon mounts it at
// GET /metrics): events received, delivery attempts and their latencies,
// emit-to-first-attempt and emit-to-delivered times, deliveries waiting
// and dead, targets' states and breakers, River's queue, plugin and
// WebAPI calls, and Go's and the process's own. The list, with each
// metric's labels, is in the README ("Operating hookd").
func (rt *Runtime) Metrics() http.Handler { return rt.metrics.Handler() }

// MetricsGatherer is the runtime's metrics registry, for an embedding
// program that serves its own and gathers hookd's into it
// (prometheus.Gatherers{own, rt.MetricsGatherer()}).
func (rt *Runtime) MetricsGatherer() prometheus.Gatherer { return rt.metrics.Registry() }

// newMetrics builds the runtime's metrics, lends their registry to the
// modules (each registers its own) and makes them the engine's first
// observer. The store's and the plugins'
// figures join them once the engine and the modules exist
// ([metrics.Metrics.WatchStore], [metrics.Metrics.WatchPlugins]).
func newMetrics(cfg *Config, o *options) *metrics.Metrics {
	m := metrics.New(metrics.Options{PerTarget: cfg.Metrics.PerTarget, Version: o.version, GoVersion: goruntime.Version()})
	o.metrics = m.Modules()
	o.observers = append([]func(context.Context, hook.Observation){m.Observe}, o.observers...)
	return m
}

// countEvents counts committed events by MODULE and EVENT.
func (rt *Runtime) countEvents(events ...map[string]string) {
	for _, f := range events {
		rt.metrics.Event(f[hook.FieldModule], hook.CanonicalEventName(f[hook.FieldEvent]))
	}
}

package runtime

import (
	"context"
	"net/http"
	goruntime "runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
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

// newMetrics builds the runtime's metrics and makes them the modules'
// counters and the engine's first observer. The store's figures are read
// from the engine once it is open (source.set).
func newMetrics(cfg *Config, o *options) (*metrics.Metrics, *engineSource) {
	src := &engineSource{}
	m := metrics.New(metrics.Options{PerTarget: cfg.Metrics.PerTarget, Version: o.version,
		GoVersion: goruntime.Version(), Source: src, Plugins: src.plugins})
	o.counters = m
	o.observers = append([]func(context.Context, hook.Observation){m.Observe}, o.observers...)
	return m, src
}

// engineSource reads the store's figures from the engine, and the
// plugins' from the modules, once the runtime is open.
type engineSource struct {
	e    atomic.Pointer[engine.Engine]
	mods atomic.Pointer[modules]
}

func (s *engineSource) set(e *engine.Engine, ms *modules) {
	s.mods.Store(ms)
	s.e.Store(e)
}

func (s *engineSource) plugins() []hook.PluginStatus {
	if ms := s.mods.Load(); ms != nil {
		return ms.plugins()
	}
	return nil
}

func (s *engineSource) Snapshot(ctx context.Context) (metrics.Snapshot, error) {
	e := s.e.Load()
	if e == nil {
		return metrics.Snapshot{}, hook.ErrUnavailable
	}
	return e.Snapshot(ctx)
}

// countEvents counts committed events by MODULE and EVENT.
func (rt *Runtime) countEvents(events ...map[string]string) {
	for _, f := range events {
		rt.metrics.Event(f[hook.FieldModule], hook.CanonicalEventName(f[hook.FieldEvent]))
	}
}

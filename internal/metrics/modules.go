package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
)

// Modules own their metrics (the WASM plugins' calls in builtin/wasmscript,
// the External WebAPI's in builtin/webapi): they build their collectors
// with Counter and Histogram and register them in the runtime's registry,
// which reaches them as hook.Env.Metrics. The kernel (hook) knows no
// Prometheus type and no module's metric; this package only lends the
// registry.

// Modules returns the registry as modules see it (hook.Env.Metrics).
func (m *Metrics) Modules() hook.MetricsRegistry { return moduleRegistry{m} }

type moduleRegistry struct{ m *Metrics }

// Register adds c, a prometheus.Collector. A collector equal to one
// already registered (same names and labels) is an error matching
// prometheus.AlreadyRegisteredError, whose ExistingCollector is the one
// to use (Counter and Histogram do).
func (r moduleRegistry) Register(c any) error {
	col, ok := c.(prometheus.Collector)
	if !ok {
		return fmt.Errorf("metrics: a module registered a %T, not a prometheus.Collector", c)
	}
	return r.m.reg.Register(col)
}

func (r moduleRegistry) PerTarget() bool { return r.m.perTarget }

// LatencyBuckets span a loopback answer (1 ms) to a slow receiver (30 s):
// the buckets of every call-duration histogram.
var LatencyBuckets = latencyBuckets

// Counter returns a counter vector named name in reg: a new one, or the
// one registered there before under the same name and labels (a module
// provisioned twice by one runtime). A nil reg (Provision outside a
// runtime) gives a vector that nobody gathers.
func Counter(reg hook.MetricsRegistry, name, help string, labels ...string) (*prometheus.CounterVec, error) {
	return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Histogram is Counter for a histogram vector with buckets.
func Histogram(reg hook.MetricsRegistry, name, help string, buckets []float64, labels ...string) (*prometheus.HistogramVec, error) {
	return register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels))
}

// Gauge is Counter for a gauge vector.
func Gauge(reg hook.MetricsRegistry, name, help string, labels ...string) (*prometheus.GaugeVec, error) {
	return register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

func register[C prometheus.Collector](reg hook.MetricsRegistry, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

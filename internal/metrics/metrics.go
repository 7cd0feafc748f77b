// Package metrics is hookd's Prometheus registry, one per runtime, and the
// runtime's own instrumentation: what the engine counts (events, delivery
// attempts and their latencies) and what it reads from the store on a
// scrape (deliveries waiting, targets' states, River's queue). Modules
// register their own metrics in the same registry (modules.go): the
// plugins' calls are builtin/wasmscript's, the WebAPI's builtin/webapi's.
//
// Labels stay few by default, so that a proxy with thousands of domains
// does not make thousands of series: targets are labelled by kind
// (jwt_webhook, http_events.global, http_events.domain, …), plugins not at
// all, and events by MODULE and EVENT up to a bound. [Options.PerTarget]
// adds a target label (and modules a domain label for plugins) for
// operators who want them.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookrt/hookd/hook"
)

// Options configure [New].
type Options struct {
	// PerTarget labels delivery metrics with the target's name and plugin
	// metrics with the domain, beside the kind. Off by default: per-domain
	// targets would make a series per domain.
	PerTarget bool
	// Version and GoVersion label hookd_build_info.
	Version, GoVersion string
	// Source is read (at most once per SourceTTL) when a scrape asks for the
	// store's figures; nil leaves them out.
	Source Source
	// SourceTTL defaults to 10 s: a scrape does not hit the store more often.
	SourceTTL time.Duration
	// Plugins reports the WASM plugins at each scrape (hookd_plugins,
	// hookd_plugin_instances); nil leaves them out.
	Plugins func() []hook.PluginStatus
}

// Metrics holds the registry and the instruments. Its methods are safe for
// concurrent use and cheap: they are called on the delivery path.
type Metrics struct {
	reg       *prometheus.Registry
	perTarget bool

	events        *prometheus.CounterVec
	eventKinds    labelBound
	attempts      *prometheus.CounterVec
	deadLetters   *prometheus.CounterVec
	attemptDur    *prometheus.HistogramVec
	firstDelay    *prometheus.HistogramVec
	deliveredWait *prometheus.HistogramVec
}

// latencyBuckets span a loopback answer (1 ms) to a slow receiver (30 s).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// waitBuckets span an event that leaves at once to one that waited for
// retries over hours.
var waitBuckets = []float64{.001, .005, .025, .1, .5, 1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600}

// New builds the instruments in a new registry, with Go's and the
// process's collectors.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), perTarget: o.PerTarget, eventKinds: labelBound{max: maxEventKinds}}
	target := []string{"target_kind"}
	if o.PerTarget {
		target = append(target, "target")
	}
	f := factory{m.reg}
	m.events = f.counter("hookd_events_received_total",
		"Events committed, by MODULE and EVENT (at most 100 pairs; the rest are counted as other/other).", "module", "event")
	m.attempts = f.counter("hookd_delivery_attempts_total",
		"Delivery attempts, by the state they left the delivery in: delivered, retrying or dead.", with(target, "outcome")...)
	m.deadLetters = f.counter("hookd_delivery_dead_total",
		"Deliveries that went to the dead-letter list, with or without an attempt.", target...)
	m.attemptDur = f.histogram("hookd_delivery_attempt_duration_seconds",
		"How long one delivery attempt took, answer included.", latencyBuckets, target...)
	m.firstDelay = f.histogram("hookd_delivery_first_attempt_delay_seconds",
		"From the event's commit to the start of its delivery's first attempt.", waitBuckets, target...)
	m.deliveredWait = f.histogram("hookd_delivery_delivered_delay_seconds",
		"From the event's commit to its delivery's successful attempt, retries included.", waitBuckets, target...)

	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hookd_build_info",
		Help: "Always 1; the labels say which hookd runs."}, []string{"version", "goversion"})
	info.WithLabelValues(o.Version, o.GoVersion).Set(1)
	m.reg.MustRegister(info,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Source != nil {
		m.reg.MustRegister(newStoreCollector(o.Source, o.SourceTTL, o.PerTarget))
	}
	if o.Plugins != nil {
		m.reg.MustRegister(newPluginCollector(o.Plugins, o.PerTarget))
	}
	return m
}

// WatchStore adds the store's figures, read from src (see
// [Options.Source]), to a registry built without them: the runtime's
// metrics exist before its store opens, since the engine reports each
// delivery's outcome to them from the start. Call it once.
func (m *Metrics) WatchStore(src Source, ttl time.Duration) error {
	return m.reg.Register(newStoreCollector(src, ttl, m.perTarget))
}

// WatchPlugins adds the plugins' figures (see [Options.Plugins]) to a
// registry built without them, once the modules are provisioned. Call it
// once.
func (m *Metrics) WatchPlugins(plugins func() []hook.PluginStatus) error {
	return m.reg.Register(newPluginCollector(plugins, m.perTarget))
}

// Handler serves the registry in Prometheus's text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, MaxRequestsInFlight: 4})
}

// Registry is the registry, for an embedding program that gathers it
// into its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Event counts one committed event.
func (m *Metrics) Event(module, event string) {
	module, event = m.eventKinds.pair(module, event)
	m.events.WithLabelValues(module, event).Inc()
}

// Observe counts one recorded outcome of a delivery: it is the engine's
// observer.
func (m *Metrics) Observe(_ context.Context, o hook.Observation) {
	labels := m.targetLabels(o.Target)
	attempted := o.Latency > 0
	if attempted {
		outcome := string(o.State)
		m.attempts.WithLabelValues(append(labels, outcome)...).Inc()
		m.attemptDur.WithLabelValues(labels...).Observe(o.Latency.Seconds())
		if o.Attempt == 1 && !o.EventAt.IsZero() {
			m.firstDelay.WithLabelValues(labels...).Observe(nonNegative(o.At.Sub(o.EventAt)))
		}
		if o.State == hook.StateDelivered && !o.EventAt.IsZero() {
			m.deliveredWait.WithLabelValues(labels...).Observe(nonNegative(o.At.Add(o.Latency).Sub(o.EventAt)))
		}
	}
	if o.State == hook.StateDead {
		m.deadLetters.WithLabelValues(labels...).Inc()
	}
}

func (m *Metrics) targetLabels(target string) []string {
	if m.perTarget {
		return []string{TargetKind(target), target}
	}
	return []string{TargetKind(target)}
}

// domainTargetPrefix is builtin/httpevents.DomainTargetPrefix (not
// imported: metrics must not depend on a module).
const domainTargetPrefix = "http_events.domain."

// TargetKind is the label of a target's kind: its name, except that every
// per-domain HTTP-events target is "http_events.domain".
func TargetKind(target string) string {
	if strings.HasPrefix(target, domainTargetPrefix) {
		return "http_events.domain"
	}
	return target
}

// with returns a new slice of labels followed by more.
func with(labels []string, more ...string) []string {
	return append(append([]string(nil), labels...), more...)
}

func nonNegative(d time.Duration) float64 { return max(0, d.Seconds()) }

// maxEventKinds bounds the MODULE/EVENT pairs of hookd_events_received_total:
// both come from the proxy's requests, so they must not grow a series each.
const maxEventKinds = 100

// labelBound admits the first max distinct label pairs and folds the rest
// into ("other", "other").
type labelBound struct {
	mu   sync.RWMutex
	max  int
	seen map[[2]string]bool
}

func (b *labelBound) pair(a, c string) (string, string) {
	k := [2]string{a, c}
	b.mu.RLock()
	ok := b.seen[k]
	full := len(b.seen) >= b.max
	b.mu.RUnlock()
	if ok {
		return a, c
	}
	if full {
		return "other", "other"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[[2]string]bool{}
	}
	if len(b.seen) >= b.max && !b.seen[k] {
		return "other", "other"
	}
	b.seen[k] = true
	return a, c
}

// factory registers instruments in one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

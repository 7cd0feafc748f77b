package wasmscript

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/metrics"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// outcomes are the outcomes of a plugin call, in the order stats keeps them.
var outcomes = [...]string{hook.PluginOK, hook.PluginTrap, hook.PluginDeadline, hook.PluginMemory, hook.PluginRefused, hook.PluginFailed}

// callOutcome names the outcome of a call that failed: the guest trapped,
// outgrew its memory, ran out its deadline (or did not get to run before
// it), set an oversize reply (refused), or the host could not make the
// call (backed off, closed, canceled, event too large: failed).
func callOutcome(err error) string {
	switch {
	case errors.Is(err, wasmhost.ErrMemoryLimit):
		return hook.PluginMemory
	case errors.Is(err, wasmhost.ErrTrap):
		return hook.PluginTrap
	case errors.Is(err, wasmhost.ErrDeadline):
		return hook.PluginDeadline
	case errors.Is(err, wasmhost.ErrReplyTooLarge):
		return hook.PluginRefused
	default:
		return hook.PluginFailed
	}
}

// stats are what a Script counted since it was loaded.
type stats struct {
	calls   [len(outcomes)]atomic.Int64
	reloads atomic.Int64

	mu         sync.Mutex
	lastReload time.Time
	lastError  string
}

// tally counts one call, here and in the host's counters.
func (s *Script) tally(outcome string, d time.Duration) {
	for i, o := range outcomes {
		if o == outcome {
			s.stats.calls[i].Add(1)
		}
	}
	s.count.PluginCall(s.spec.Domain, outcome, d)
}

// tallyHostCalls reports the effectful host calls of one call (signing,
// requests, state) to the host's counters, by function and result.
func (s *Script) tallyHostCalls(calls []hostapi.HostCall) {
	for _, hc := range calls {
		if !hostapi.Effectful(hc.Name) {
			continue
		}
		result := "OK"
		if hc.Status < 0 {
			result = hostapi.StatusName(hc.Status)
		}
		s.count.PluginHostCall(s.spec.Domain, hc.Name, result)
	}
}

// reloaded counts a reload that swapped the version (err nil) or was
// refused, here and in the host's counters.
func (s *Script) reloaded(ok bool, err error) {
	s.stats.mu.Lock()
	if ok {
		s.stats.reloads.Add(1)
		s.stats.lastReload, s.stats.lastError = time.Now(), ""
	} else {
		s.stats.lastError = err.Error()
	}
	s.stats.mu.Unlock()
	s.count.PluginReload(s.spec.Domain, ok)
}

// Status returns where the plugin stands, for the admin page.
func (s *Script) Status() hook.PluginStatus {
	st := hook.PluginStatus{
		Domain:    s.spec.Domain,
		Path:      s.Path(),
		SHA256:    s.SHA256(),
		Instances: s.p.Idle(),
		Calls:     make(map[string]int64, len(outcomes)),
		Reloads:   s.stats.reloads.Load(),
	}
	for i, o := range outcomes {
		st.Calls[o] = s.stats.calls[i].Load()
	}
	s.stats.mu.Lock()
	if !s.stats.lastReload.IsZero() {
		t := s.stats.lastReload
		st.LastReload = &t
	}
	st.LastError = s.stats.lastError
	s.stats.mu.Unlock()
	return st
}

// Plugins returns the status of every plugin of the host, in load order:
// the hook.PluginReporter of the module that owns the host.
func (h *Host) Plugins() []hook.PluginStatus {
	h.mu.Lock()
	scripts := append([]*Script(nil), h.scripts...)
	h.mu.Unlock()
	out := make([]hook.PluginStatus, 0, len(scripts))
	for _, s := range scripts {
		out = append(out, s.Status())
	}
	return out
}

// Counters receive what a Host's plugins do, for metrics. The runtime's
// are the plugins' Prometheus metrics ([NewCounters]); tests may record
// instead. Implementations are safe for concurrent use and return at once.
type Counters interface {
	// PluginCall reports one call of the plugin of domain: its outcome
	// (hook.PluginOK, PluginTrap, PluginDeadline, PluginMemory,
	// PluginRefused or PluginFailed) and how long it ran.
	PluginCall(domain, outcome string, d time.Duration)
	// PluginReload reports a reload of a plugin's file: ok false when the
	// new version was refused (the old one keeps running).
	PluginReload(domain string, ok bool)
	// PluginHostCall reports one call a plugin of domain made to a host
	// function that acts outside the plugin (hostapi.Effectful): result
	// is "OK" or the ABI name of the status it returned. Only the first
	// hostapi.MaxHostCallRecords host calls of a plugin call are reported.
	PluginHostCall(domain, function, result string)
}

// NopCounters counts nothing: a host outside a runtime, and dry runs.
type NopCounters struct{}

func (NopCounters) PluginCall(string, string, time.Duration) {}
func (NopCounters) PluginReload(string, bool)                {}
func (NopCounters) PluginHostCall(string, string, string)    {}

// pluginMetrics are the plugins' Prometheus metrics: the module that runs
// plugins owns them, the runtime only gathers them. With per_target a
// domain label joins each; by default plugins are not told apart, so
// that thousands of domains do not make thousands of series.
type pluginMetrics struct {
	perTarget bool
	calls     *prometheus.CounterVec
	dur       *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	host      *prometheus.CounterVec
}

// NewCounters registers the plugins' metrics in reg (the runtime's,
// hook.Env.Metrics), under the names hookd has always used:
// hookd_plugin_calls_total, hookd_plugin_call_duration_seconds,
// hookd_plugin_reloads_total and hookd_plugin_host_calls_total. A nil reg
// counts nothing.
func NewCounters(reg hook.MetricsRegistry) (Counters, error) {
	if reg == nil {
		return NopCounters{}, nil
	}
	m := &pluginMetrics{perTarget: reg.PerTarget()}
	var domain []string
	if m.perTarget {
		domain = []string{"domain"}
	}
	with := func(more ...string) []string { return append(append([]string(nil), domain...), more...) }
	var errs [4]error
	m.calls, errs[0] = metrics.Counter(reg, "hookd_plugin_calls_total",
		"WASM plugin calls, by outcome: ok, trap, deadline, memory, refused or failed.", with("outcome")...)
	m.dur, errs[1] = metrics.Histogram(reg, "hookd_plugin_call_duration_seconds",
		"How long one WASM plugin call ran.", metrics.LatencyBuckets, domain...)
	m.reloads, errs[2] = metrics.Counter(reg, "hookd_plugin_reloads_total",
		"Reloads of a changed plugin file, by result: ok, or refused (the old version keeps running).", with("result")...)
	m.host, errs[3] = metrics.Counter(reg, "hookd_plugin_host_calls_total",
		"Calls WASM plugins made to host functions that act outside them (jwt_sign, http_request, state_*), by function and result: OK or the ABI status name.",
		with("function", "result")...)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("plugin metrics: %w", err)
	}
	return m, nil
}

// labels puts the domain first when per_target asks for it.
func (m *pluginMetrics) labels(domain string, more ...string) []string {
	if m.perTarget {
		return append([]string{domain}, more...)
	}
	return more
}

func (m *pluginMetrics) PluginCall(domain, outcome string, d time.Duration) {
	m.calls.WithLabelValues(m.labels(domain, outcome)...).Inc()
	m.dur.WithLabelValues(m.labels(domain)...).Observe(d.Seconds())
}

func (m *pluginMetrics) PluginReload(domain string, ok bool) {
	result := "ok"
	if !ok {
		result = "refused"
	}
	m.reloads.WithLabelValues(m.labels(domain, result)...).Inc()
}

func (m *pluginMetrics) PluginHostCall(domain, function, result string) {
	m.host.WithLabelValues(m.labels(domain, function, result)...).Inc()
}

package wasmscript

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
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

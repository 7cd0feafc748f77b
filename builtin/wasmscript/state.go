package wasmscript

import (
	"errors"
	"fmt"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
)

// stateBinding is the store a plugin's state = true grants, and the
// domain its keys are namespaced by: live state, set with
// [Settings.WithState] on the copy a load makes, never decoded.
type stateBinding struct {
	store  hook.StateStore
	domain string
}

// WithState returns s with store as the durable state of domain's plugin:
// what state = true grants it (state_get, state_set, state_incr,
// state_delete on keys namespaced by domain, within s's state_max_*
// limits). http_events binds the runtime's store ([hook.Env] State);
// `hookd plugin check` and `plugin run` bind one in memory.
//
//	spec := d.Spec(env.Resolve, strict)
//	spec.Settings = spec.Settings.WithState(env.State, d.ID)
//
// # Notes
//
//   - A plugin with state = true whose Settings have no store is refused
//     at load, with an error saying so; without state = true the store
//     is not used.
//   - s itself is not modified: the parsed config stays as it was.
func (s Settings) WithState(store hook.StateStore, domain string) Settings {
	s.state = stateBinding{store: store, domain: domain}
	return s
}

// stateEmpty reports whether no state setting is given.
func (s *Settings) stateEmpty() bool {
	return !s.State && s.StateMaxValue == 0 && s.StateMaxKeys == 0 && s.StateMaxBytes == 0
}

// stateLimits returns the state_max_* settings (zero: the defaults).
func (s *Settings) stateLimits() hook.StateLimits {
	return hook.StateLimits{MaxValue: s.StateMaxValue, MaxKeys: s.StateMaxKeys, MaxBytes: s.StateMaxBytes}
}

// validateState checks the state_max_* settings against the ranges of
// hostapi (ABI.md, "Plugin state").
func (s *Settings) validateState() error {
	lim := s.stateLimits()
	if lim == (hook.StateLimits{}) {
		return nil
	}
	// Zero fields take the defaults, which are in range: check the
	// others only.
	def := hostfn.DefaultStateLimits()
	if lim.MaxValue == 0 {
		lim.MaxValue = def.MaxValue
	}
	if lim.MaxKeys == 0 {
		lim.MaxKeys = def.MaxKeys
	}
	if lim.MaxBytes == 0 {
		lim.MaxBytes = def.MaxBytes
	}
	return hostfn.CheckStateLimits(lim)
}

// stateGrant returns the state capability of state = true, or nil.
func (s *Settings) stateGrant() (*hostfn.State, error) {
	if !s.State {
		return nil, nil
	}
	if s.state.store == nil {
		return nil, errors.New("plugin.state: true, but this host has no store for plugin state")
	}
	st, err := hostfn.NewState(s.state.store, s.state.domain, s.stateLimits())
	if err != nil {
		return nil, fmt.Errorf("plugin.%w", err)
	}
	return st, nil
}

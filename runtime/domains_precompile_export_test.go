package runtime

import (
	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
)

// SetPrecompile turns compiling stored plugin versions ahead of their
// activation on or off for the runtimes started until the test ends (off:
// a node compiles a version only when it activates it, as before).
func SetPrecompile(t interface{ Cleanup(func()) }, on bool) {
	old := precompileOff
	precompileOff = !on
	t.Cleanup(func() { precompileOff = old })
}

// DomainHandler returns the handler rt's engine routes domain id's
// events to.
func DomainHandler(rt *Runtime, id string) (hook.Handler, bool) {
	e, has := any(rt.eng).(interface {
		Handler(name string) (hook.Handler, bool)
	})
	if !has {
		return nil, false
	}
	return e.Handler(httpevents.DomainTargetPrefix + id)
}

package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
)

// StartDomains starts domains as data on rt if Open did not (it is a
// no-op once started), for the tests of runtime_test.
func StartDomains(ctx context.Context, rt *Runtime, cfg *Config) error {
	return rt.startDomains(ctx, cfg)
}

// StartDomainsPolling is StartDomains with the PostgreSQL listener off:
// changes reach the node by the poll alone. A watcher Open started is
// stopped first.
func StartDomainsPolling(ctx context.Context, rt *Runtime, cfg *Config) error {
	rt.stopDomains(ctx)
	rt.domains = nil
	return rt.startDomainsWith(ctx, cfg, true)
}

// StopDomains stops rt's node watcher (Close does too).
func StopDomains(ctx context.Context, rt *Runtime) { rt.stopDomains(ctx) }

// RunningDomain says what rt's engine routes domain id's events to: the
// SHA-256 of its plugin, or the handler's identity for a URL script; ok
// is false when the engine has no target for the domain.
func RunningDomain(rt *Runtime, id string) (running string, ok bool) {
	e, has := any(rt.eng).(interface {
		Handler(name string) (hook.Handler, bool)
	})
	if !has {
		return "", false
	}
	h, ok := e.Handler(httpevents.DomainTargetPrefix + id)
	if !ok {
		return "", false
	}
	if p, isPlugin := h.(interface{ SHA256() string }); isPlugin {
		return p.SHA256(), true
	}
	return fmt.Sprintf("%T@%p", h, h), true
}

// SetBuildRetry sets how long a node waits before building again a
// stored domain whose build failed, until the test ends.
func SetBuildRetry(t interface{ Cleanup(func()) }, d time.Duration) {
	old := buildRetry
	buildRetry = d
	t.Cleanup(func() { buildRetry = old })
}

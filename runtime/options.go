package runtime

import (
	"context"
	"log/slog"

	"github.com/hookrt/hookd/hook"
)

// Option configures [Open] and [Check].
type Option func(*options)

type options struct {
	logger    *slog.Logger
	targets   []hook.Target
	observers []func(context.Context, hook.Observation)
	noWorkers bool
	version   string
	// metrics is the runtime's metrics registry, given to the modules
	// (metrics.go).
	metrics hook.MetricsRegistry
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.version == "" {
		o.version = "dev"
	}
	return o
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTarget adds a target built in Go rather than from config: how an
// embedding proxy plugs in a callback. Its Handler is called from a
// durable job, at least once per event its Match wants, and retried like
// any delivery.
func WithTarget(t hook.Target) Option {
	return func(o *options) { o.targets = append(o.targets, t) }
}

// WithObserver calls fn after every recorded outcome of a delivery (an
// attempt, or a decision such as dead-lettering). fn runs on the worker's
// goroutine and must return quickly. It is how metrics, and tests waiting
// for a condition, learn about deliveries without polling. Several
// observers are called in the order given, after the runtime's own
// (its metrics).
func WithObserver(fn func(context.Context, hook.Observation)) Option {
	return func(o *options) { o.observers = append(o.observers, fn) }
}

// WithoutWorkers opens the runtime without starting delivery workers:
// events can be emitted and inspected, but nothing is delivered by this
// process (another node, or a later start, delivers them).
func WithoutWorkers() Option { return func(o *options) { o.noWorkers = true } }

// WithVersion sets the version reported in the User-Agent of outbound
// calls ("hookd/<version>"). Defaults to "dev".
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithCommandSink receives the XMLMSG commands that scripts and plugins
// return (message boxes, chat text, dropping a session), as command events
// (see [hook.CommandsTarget]), durably and retried like any delivery: how
// an embedding proxy executes them in-process instead of over its XMLMSG
// endpoint. h is called once per reply; an error retries it.
func WithCommandSink(h hook.Handler) Option {
	return WithTarget(hook.Target{Name: hook.CommandsTarget, Handler: h, Match: hook.Never})
}

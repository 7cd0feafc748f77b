package runtime

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	targets   []hook.Target
	observer  func(context.Context, Observation)
	noWorkers bool
	version   string
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTarget adds a target built in Go rather than from config: how an
// embedding proxy plugs in a callback, and how tests add receivers.
func WithTarget(t hook.Target) Option {
	return func(o *options) { o.targets = append(o.targets, t) }
}

// WithObserver calls fn after every recorded outcome of a delivery (an
// attempt, or a decision such as dead-lettering). fn runs on the worker's
// goroutine and must return quickly. It is how metrics, and tests waiting
// for a condition, learn about deliveries without polling.
func WithObserver(fn func(context.Context, Observation)) Option {
	return func(o *options) { o.observer = fn }
}

// WithoutWorkers opens the runtime without starting delivery workers: events
// can be emitted and inspected, but nothing is delivered by this process.
func WithoutWorkers() Option { return func(o *options) { o.noWorkers = true } }

// WithVersion sets the version reported in the User-Agent of outbound calls.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// Observation is one recorded outcome of a delivery.
type Observation struct {
	DeliveryID int64
	EventID    string
	Target     string
	State      string // the delivery's new state
	Attempt    int    // attempts made so far (0 when no attempt was made)
	Status     int
	Err        error  // the attempt's error, if an attempt was made and failed
	Reason     string // why the delivery is in State (the error, or why it is dead)
	Latency    time.Duration
	At         time.Time // when the attempt (or decision) was made
	Next       time.Time // when the next attempt is due, for retrying
}

// WithCommandSink receives the XMLMSG commands that scripts and plugins
// return (message boxes, chat text, dropping a session), as command events
// (see hook.CommandsTarget), durably and retried like any delivery: how an
// embedding proxy executes them in-process instead of over its XMLMSG
// endpoint. h is called once per reply; an error retries it.
func WithCommandSink(h hook.Handler) Option {
	return WithTarget(hook.Target{Name: hook.CommandsTarget, Handler: h, Match: hook.Never})
}

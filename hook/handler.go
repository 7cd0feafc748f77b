package hook

import (
	"context"
	"time"
)

// Handler delivers one event to one target, once.
//
// Handle is called by the runtime's delivery worker, once per attempt, from
// many goroutines at once: implementations must be safe for concurrent use.
// The event belongs to the runtime (see [Event]).
//
// The result and the error together say what happened:
//
//   - nil error: the target acknowledged the event; it is delivered.
//   - any other error: the attempt failed and is retried on the delivery
//     schedule, unless the error is (or wraps) [Permanent] (never retried),
//     [Disable] (the target is gone, e.g. HTTP 410) or carries a [RetryAfter]
//     hint (the next attempt waits at least that long, capped).
//
// The Result is recorded in the delivery log whether or not err is nil, so a
// handler fills in what it knows (status, latency, the start of the answer)
// even for a failed attempt.
//
// ctx carries the attempt's deadline (the delivery timeout); a handler must
// return promptly once it is done. A panic in Handle is recovered by the
// runtime and recorded as a failed attempt, which is retried.
type Handler interface {
	Handle(ctx context.Context, ev *Event) (Result, error)
}

// HandlerFunc adapts an ordinary function to a [Handler].
type HandlerFunc func(ctx context.Context, ev *Event) (Result, error)

// Handle calls f(ctx, ev).
func (f HandlerFunc) Handle(ctx context.Context, ev *Event) (Result, error) { return f(ctx, ev) }

// Result is what one attempt observed. All fields are optional.
type Result struct {
	// Status is the HTTP status code of the answer, or 0 when there was none.
	Status int
	// Reply is the start of the answer's body, at most [MaxReplyExcerpt]
	// bytes; longer answers are cut.
	Reply []byte
	// Latency is how long the attempt took; the runtime measures it when 0.
	Latency time.Duration
	// Summary is a short account of the answer for logs, the attempt
	// record and session records ("nomessage", "xmlmsg: drop 5a1d",
	// "acknowledged: XML not an XMLMSG document, nothing executed (…)"):
	// where an acknowledged answer was not (or not wholly) executed, it
	// says so.
	Summary string
	// Commands is an XMLMSG document for the proxy, from the answer of a
	// successful attempt: every command in it, those hookd does not know
	// included, for the proxy to execute or refuse. The runtime forwards
	// it durably to the [CommandsTarget].
	Commands []byte
}

// MaxReplyExcerpt is how much of an answer's body the delivery log keeps.
const MaxReplyExcerpt = 20 << 10

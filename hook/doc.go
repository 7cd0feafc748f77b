// Package hook holds the types every part of hookd shares: the [Event] the
// proxy reports and the rule that admits it ([NewEvent]), the [Handler]
// that delivers it, the [Result] and errors a handler returns, the
// [Module] shape through which built-ins provide delivery [Target]s, and
// the delivery log's records ([Delivery], [Attempt], [Observation]).
//
// The package imports nothing else of hookd, so that the runtime, the
// engine, the built-ins, the config loader and test helpers can all depend
// on it without import cycles (the same reason River keeps rivertype
// apart), and an embedding proxy can name every type the runtime returns.
//
// # Contract in one paragraph
//
// The runtime commits an [Event] to its store, works out which [Target]s want
// it, and calls each target's [Handler] from a durable job, once per attempt,
// until the handler reports success, the target's [Policy] gives up, or the
// event is older than the delivery maximum age. A handler never retries by
// itself: it makes one attempt and says, through its error, whether another
// one makes sense ([Permanent], [RetryAfter], [Disable]).
package hook

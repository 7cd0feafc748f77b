// Package runtime is hookd's public face: what a Go proxy calls to embed
// hookd, and what the hookd daemon is built on. It loads the config,
// starts the modules and the delivery engine, takes events, and answers
// for the delivery log.
//
// The package is named runtime after its directory; it shadows the
// standard library's runtime, so import it under the agreed alias hookrt:
//
//	import hookrt "github.com/hookrt/hookd/runtime"
//
//	cfg, err := hookrt.LoadConfig("hookd.toml")
//	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(logger))
//	defer rt.Close(ctx)
//	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "1", "USERNAME": "ann"})
//
// The types of events, handlers, deliveries and attempts are those of
// package hook, which imports nothing of hookd; the engine (River queue,
// workers, group commit, breaker, store) is internal.
//
// # Delivery
//
// [Runtime.Emit] commits the event, one delivery per target that wants it
// and their jobs in one transaction, and returns the EVENT_ID once
// committed: from then on the event survives crashes and restarts and is
// delivered at least once. Each attempt is recorded; a failure is retried
// on the configured schedule (±jitter, at least the receiver's
// Retry-After) until the target acknowledges it, its policy gives up, or
// the event is older than the maximum age (then it is dead, and
// [Runtime.Retry] replays it). A target that keeps failing is backed off
// as a whole (a circuit breaker), so one dead receiver does not starve
// the others.
//
// # Transactional outbox
//
// A proxy that keeps its own tables in hookd's database calls
// [Runtime.EmitTx] with its own transaction (wrapped by [SQLTx] on
// [Runtime.DB], or [PgxTx] on PostgreSQL): the event and its jobs then
// commit or roll back with the proxy's change.
//
// # Synchronous calls
//
// [Runtime.Signup] and [Runtime.ForgotPassword] ask the External WebAPI
// while the user waits, never past the caller's deadline.
//
// # Modules
//
// The configured modules (the JWT webhook, HTTP events, WASM plugins, the
// External WebAPI, the command sink) are values made fresh from the
// config on every [Open] and [Check], provisioned, and closed again even
// when provisioning failed; the [Config] itself is never changed.
// [WithTarget] adds a target written in Go.
package runtime

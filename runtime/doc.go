// Package runtime is hookd's engine: it commits events, routes them to the
// targets that want them, and delivers them durably, at least once, through
// River jobs on SQLite (embedded default) or PostgreSQL (several nodes).
//
// The package is named runtime after its directory; it shadows the standard
// library's runtime, so import it under the agreed alias hookrt:
//
//	import hookrt "github.com/hookrt/hookd/runtime"
//
//	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(logger))
//	if err != nil { … }
//	defer rt.Close(ctx)
//	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", …})
//
// # Delivery
//
// Emit writes the event, one delivery row per interested target and one
// River job per delivery in a single transaction, and returns the EVENT_ID
// once that transaction commits: from then on the event survives crashes.
// A job makes one attempt through the target's [hook.Handler], records it
// (time, status, latency, error, the first 20 kB of the answer) and either
// finishes or snoozes itself until the next step of the retry schedule
// (±jitter, at least the receiver's Retry-After, capped). Retries are
// counted by hookd, not by River, so River never discards a job on its own.
// A delivery older than the maximum age, out of attempts under its target's
// policy, refused permanently, or aimed at a disabled target goes to the
// dead state, from which an operator can replay it.
//
// Each target has a circuit breaker: after a run of consecutive failures,
// its jobs are snoozed without an attempt until a cool-down passes, so one
// dead receiver does not hold workers that other targets need.
//
// # Transactional outbox
//
// A proxy that keeps its own data in the same database can call [Runtime.EmitTx]
// with its own transaction (wrapped by [store.SQLTx] or [store.PgxTx]): the
// event and its jobs then commit or roll back with the proxy's change.
package runtime

// Package engine is hookd's delivery engine, under the public runtime: it
// commits events, routes them to the targets that want them, and delivers
// them durably, at least once, through River jobs on SQLite (embedded
// default) or PostgreSQL (several nodes).
//
// # Delivery
//
// Emit writes the event, one delivery row per interested target and one
// River job per delivery in a single transaction (concurrent Emits share
// transactions: group commit), and returns the EVENT_ID once that
// transaction commits: from then on the event survives crashes. Where the
// process has a free slot, a delivery instead gets a lease and is attempted
// at once after the commit, with the event in memory (the direct path,
// direct.go); a lease left unsettled becomes a River job. A delivery that
// finds no free slot waits for one on an in-memory queue (memqueue.go),
// under a lease longer by the queue's age bound, so that a burst drains at
// the direct path's rate; past that bound, or at stop, it gets a River job.
// [Engine.RescueBound], the most time a lost node's deliveries wait for
// another node, includes that age bound.
//
// A job makes one attempt through the target's [hook.Handler], records it
// (time, status, latency, error, the first 20 kB of the answer) and either
// finishes or snoozes itself until the next step of the retry schedule
// (±jitter, at least the receiver's Retry-After, capped). Retries are
// counted by hookd, not by River, so River never discards a job on its
// own. A delivery older than the maximum age, out of attempts under its
// target's policy, refused permanently, or aimed at a disabled target goes
// to the dead state, from which an operator can replay it.
//
// The single-delivery worker and the combined-delivery (batch) worker
// share one attempt algorithm (attempt.go).
//
// # Lifecycle and targets
//
// New opens and migrates the store without workers, so that the runtime
// can provision modules with it; Start starts the workers. The target set
// can change at any time (SetTargets, targetset.go): it is swapped whole,
// and SetTargets returns once the targets it replaced or removed have no
// attempt in flight. A delivery whose target this node does not know
// waits instead of dying: on a cluster its domain may not be loaded here
// yet.
//
// Each target has a circuit breaker: after a run of consecutive failures,
// its jobs are snoozed without an attempt until a cool-down passes, so one
// dead receiver does not hold workers that other targets need.
//
// # Transactional outbox
//
// EmitTx writes events inside a transaction of the caller's (wrapped by
// store.SQLTx or store.PgxTx): they and their jobs commit or roll back
// with the caller's change.
package engine

package runtime

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/metrics"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/store"
)

// Runtime is a running hookd: a store, the configured modules and targets,
// and the workers that deliver events to them. It is safe for concurrent
// use.
type Runtime struct {
	log  *slog.Logger
	eng  *engine.Engine
	mods *modules
	// stats feeds Stats, the admin page's live chart (admin.go).
	stats *ops.Recorder
	// metrics are the Prometheus metrics (metrics.go).
	metrics *metrics.Metrics
	// stopTracing flushes the spans at Close; nil when tracing is off.
	stopTracing func(context.Context) error
	// dbShared is set once DB has handed the SQLite store's *sql.DB out:
	// from then on an emit that times out may be blocked by the
	// program's own transaction (emitWait).
	dbShared atomic.Bool
	// domains are the domains stored as data and their node watcher
	// (domains_watch.go); nil until startDomains, and in Check.
	domains *domainsState

	closeOnce sync.Once
	closeErr  error
}

// Open starts a runtime on cfg: it validates cfg, opens and migrates the
// store, provisions a fresh value of every module (reading key files,
// compiling plugins; plugins may use their state from hookd_v1_init on),
// loads the domains stored as data, and starts the delivery workers.
//
//	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(logger))
//	if err != nil {
//		return err
//	}
//	defer rt.Close(ctx)
//
// # Notes
//
//   - cfg is not modified or kept: a config can be checked with [Check]
//     and then opened, or opened again after the first runtime closed.
//   - On SQLite, one process at a time may open a store file (it is
//     locked); several nodes share a PostgreSQL store.
//   - When Open fails, everything it started is stopped again, modules
//     whose provisioning failed half-way included.
func Open(ctx context.Context, cfg *Config, opts ...Option) (*Runtime, error) {
	o := newOptions(opts)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		o.logger.WarnContext(ctx, w)
	}
	dsn, err := cfg.Store.dsn()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.name(), err)
	}
	mt := newMetrics(cfg, &o)
	stopTracing, err := startTracing(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{log: o.logger, metrics: mt, stopTracing: stopTracing}
	rt.stats = withStats(&o) // the runtime's own observer, first (admin.go)
	if err := rt.open(ctx, cfg, o, dsn); err != nil {
		// Close undoes what open got to (a runtime that never ran).
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = rt.Close(closeCtx)
		return nil, err
	}
	return rt, nil
}

// open does Open's work in its order: the store (engine.New), the modules
// provisioned with it, their targets, the stored domains, the workers.
// What it started is on rt, for Close to stop when it fails.
func (rt *Runtime) open(ctx context.Context, cfg *Config, o options, dsn string) error {
	d := cfg.Delivery
	schedule := make([]time.Duration, len(d.RetrySchedule))
	for i, s := range d.RetrySchedule {
		schedule[i] = time.Duration(s)
	}
	eng, err := engine.New(ctx, engine.Options{
		Store: engine.StoreOptions{Driver: cfg.Store.Driver, Path: cfg.Store.Path, DSN: dsn,
			Synchronous: cfg.Store.Synchronous, CacheSize: cfg.Store.CacheSize, MmapSize: cfg.Store.MmapSize},
		Retention: engine.RetentionOptions{
			Keep:        time.Duration(cfg.Retention.Keep),
			Dead:        cfg.Retention.dead(),
			Idempotency: time.Duration(cfg.Retention.Idempotency),
			Interval:    time.Duration(cfg.Retention.Interval),
		},
		Delivery: engine.DeliveryOptions{
			Schedule:         schedule,
			Jitter:           d.Jitter,
			Timeout:          d.timeout(),
			MaxAge:           time.Duration(d.MaxAge),
			Workers:          d.Workers,
			RetryAfterCap:    time.Duration(d.RetryAfterCap),
			BreakerThreshold: d.BreakerThreshold,
			BreakerCooldown:  time.Duration(d.BreakerCooldown),
			PollInterval:     time.Duration(d.PollInterval),
			DisableAfter:     time.Duration(d.DisableAfter),
		},
		ServerID:  cfg.Server.ServerID,
		Logger:    o.logger,
		Observer:  fanOut(o.observers),
		NoWorkers: o.noWorkers,
		Metrics:   rt.metrics.Modules(),
		// The targets view names the proxy a target uses by default.
		DeliveryProxy: cfg.Delivery.Proxy,
		// ... and shows the v1a public key of a target's signing_key.
		PrivateDir: cfg.Storage.PrivateDir,
	})
	if err != nil {
		return err // the engine's errors name the store they are about
	}
	rt.eng = eng
	if err := rt.metrics.WatchStore(eng, 0); err != nil {
		return err
	}
	rt.mods, err = provision(ctx, cfg, o, services{
		state:  store.PluginState{DB: eng.DB()},
		signup: newSignupDecider(eng),
	})
	if err != nil {
		return err
	}
	if err := rt.metrics.WatchPlugins(rt.mods.plugins); err != nil {
		return err
	}
	eng.SetSaveSessions(rt.mods.saveSessions)
	if err := eng.SetTargets(ctx, rt.mods.tgts, nil); err != nil {
		return err // the engine's errors name the target they are about
	}
	if err := rt.startDomains(ctx, cfg); err != nil {
		return err
	}
	return eng.Start(ctx)
}

// stopSpans flushes the tracer of a failed Open.
func stopSpans(stop func(context.Context) error) {
	if stop != nil {
		_ = stop(context.Background())
	}
}

// fanOut calls every observer in turn; nil for none.
func fanOut(obs []func(context.Context, hook.Observation)) func(context.Context, hook.Observation) {
	switch len(obs) {
	case 0:
		return nil
	case 1:
		return obs[0]
	}
	return func(ctx context.Context, o hook.Observation) {
		for _, fn := range obs {
			fn(ctx, o)
		}
	}
}

// timeout is the delivery timeout as a time.Duration.
func (d DeliveryConfig) timeout() time.Duration { return time.Duration(d.Timeout) }

// Close stops the workers (attempts in flight finish, or are released to
// be retried at the next start if they outlast ctx), closes the modules
// and the store. It is safe to call more than once.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.closeOnce.Do(func() {
		if rt.domains != nil {
			rt.stopDomains(ctx)
		}
		var err error
		if rt.eng != nil {
			err = rt.eng.Close(ctx)
		}
		if rt.mods != nil {
			err = errors.Join(err, rt.mods.close())
		}
		rt.closeErr = err
		if rt.stopTracing != nil {
			rt.closeErr = errors.Join(rt.closeErr, rt.stopTracing(ctx))
		}
	})
	return rt.closeErr
}

// Emit commits an event and its deliveries, and returns its EVENT_ID once
// committed: from then on the event survives crashes and is delivered at
// least once to every target that wants it.
//
//	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "1", "USERNAME": "ann"})
//
// # Notes
//
//   - fields are the event's fields, checked by [hook.NewEvent]: MODULE and
//     EVENT required, TIMESTAMP and SERVERID filled in when missing, "NEW
//     SESSION" stored as NEWSESSION, EVENT_ID assigned. The map is copied,
//     not kept.
//   - An error matching [hook.ErrInvalidEvent] means the fields were
//     refused (the text says why); one matching [hook.ErrUnavailable]
//     means nothing was written and the caller may try again;
//     [hook.ErrClosed], that the runtime was closed.
//   - Concurrent Emit calls share transactions (group commit): on SQLite,
//     with one writer, that is what lets many proxy threads emit at once.
//   - Emit honours ctx: if ctx ends before the event's transaction has
//     begun, Emit returns ctx's error and nothing is written; once it has
//     begun, Emit waits for its commit, to tell the truth.
//   - Do not call Emit while holding a transaction of your own on
//     [Runtime.DB]: SQLite has one connection, and Emit waits for your
//     transaction to end; use [Runtime.EmitTx] with it. Such an Emit
//     returns at ctx's deadline with an error saying so (and hookd logs a
//     warning after 5 s); without a deadline it waits.
func (rt *Runtime) Emit(ctx context.Context, fields map[string]string) (string, error) {
	id, err := rt.eng.Emit(ctx, fields)
	if err == nil {
		rt.countEvents(fields)
	}
	return id, rt.emitWait(ctx, err)
}

// EmitWithKey is [Runtime.Emit] with an idempotency key, for a caller that
// may send one event twice (a retry after a lost answer): the first call
// with key commits the event; a repeat within the retention's idempotency
// window (24h by default), on any node, commits nothing and returns the
// first call's EVENT_ID with repeated true, if its fields are the same,
// or an error matching [hook.ErrConflict] if they differ. key is 1 to 255
// bytes of printable ASCII; "" is Emit.
//
//	id, repeated, err := rt.EmitWithKey(ctx, "user-42-created", fields)
func (rt *Runtime) EmitWithKey(ctx context.Context, key string, fields map[string]string) (id string, repeated bool, err error) {
	id, repeated, err = rt.eng.EmitWithKey(ctx, key, fields)
	if err == nil && !repeated {
		rt.countEvents(fields)
	}
	return id, repeated, rt.emitWait(ctx, err)
}

// EmitMany commits several events in one transaction, all or none, and
// returns their EVENT_IDs in order: much faster than one Emit each.
// Concurrent calls share transactions, as Emit's do. An error about one
// event's fields names it ("event 3 of 10: …") and commits none.
func (rt *Runtime) EmitMany(ctx context.Context, events []map[string]string) ([]string, error) {
	ids, err := rt.eng.EmitMany(ctx, events)
	if err == nil {
		rt.countEvents(events...)
	}
	return ids, rt.emitWait(ctx, err)
}

// EmitManyWithKey is [Runtime.EmitMany] with an idempotency key covering
// the whole batch, as [Runtime.EmitWithKey]'s covers one event: a repeat
// with the same events in the same order commits nothing and returns the
// first call's EVENT_IDs with repeated true; other events under the same
// key are an error matching [hook.ErrConflict].
func (rt *Runtime) EmitManyWithKey(ctx context.Context, key string, events []map[string]string) (ids []string, repeated bool, err error) {
	ids, repeated, err = rt.eng.EmitManyWithKey(ctx, key, events)
	if err == nil && !repeated {
		rt.countEvents(events...)
	}
	return ids, repeated, rt.emitWait(ctx, err)
}

// Tx is a transaction of the embedding proxy on the runtime's own
// database, for [Runtime.EmitTx]. Make one with [SQLTx] or [PgxTx].
type Tx struct{ tx store.Tx }

// SQLTx wraps a transaction on [Runtime.DB] (SQLite).
func SQLTx(tx *sql.Tx) Tx { return Tx{store.SQLTx(tx)} }

// PgxTx wraps a pgx transaction on the runtime's PostgreSQL database.
func PgxTx(tx pgx.Tx) Tx { return Tx{store.PgxTx(tx)} }

// EmitTx commits an event inside the caller's own transaction on the
// runtime's database (a transactional outbox): the event and its
// deliveries exist if and only if tx commits, and are delivered only then.
//
//	tx, err := rt.DB().BeginTx(ctx, nil)
//	…
//	if _, err := tx.ExecContext(ctx, `INSERT INTO users (name) VALUES (?)`, "ann"); err != nil { … }
//	if _, err := rt.EmitTx(ctx, hookrt.SQLTx(tx), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": "ann"}); err != nil { … }
//	err = tx.Commit()
//
// # Notes
//
//   - The fields follow the rules of [Runtime.Emit].
//   - tx must be of the store's kind: [SQLTx] on SQLite, [PgxTx] on
//     PostgreSQL; another kind is an error.
//   - Keep such transactions short: on SQLite, the store has one
//     connection, and delivery waits while the proxy holds it.
func (rt *Runtime) EmitTx(ctx context.Context, tx Tx, fields map[string]string) (string, error) {
	if tx.tx == nil {
		return "", errors.New("runtime: EmitTx needs a transaction made with SQLTx or PgxTx")
	}
	ids, err := rt.eng.EmitTx(ctx, tx.tx, fields)
	if err != nil {
		return "", err
	}
	rt.countEvents(fields) // into tx: counted whether or not the caller commits
	return ids[0], nil
}

// DB returns the *sql.DB of the SQLite store, for a proxy that keeps its
// own tables in the same file and emits inside its transactions
// ([Runtime.EmitTx]); nil on PostgreSQL, where the proxy uses its own pgx
// connection to the same database.
//
// # Notes
//
//   - It has one connection: do not close it, and do not keep a
//     transaction or rows open longer than needed. While a transaction of
//     the proxy's is open, every Runtime method that uses the store waits
//     for it (Emit, EmitMany, ListDeliveries, Delivery, Retry, Discard,
//     EnableTarget, SessionEvents, Health, and the delivery workers), up
//     to its context's end, when it returns the context's error; only
//     EmitTx with that transaction goes on. So the goroutine holding the
//     transaction must emit with EmitTx: its own Emit could only give up.
//     Signup and ForgotPassword do not use the store.
func (rt *Runtime) DB() *sql.DB {
	db := rt.eng.DB().SQL()
	if db != nil {
		rt.dbShared.Store(true)
	}
	return db
}

// emitWait explains an emit that gave up waiting for the store when the
// likely cause is the caller's own transaction: on SQLite, after DB handed
// the store out, with its one connection in use. The error still matches
// ctx's (errors.Is), and nothing was written.
func (rt *Runtime) emitWait(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || !errors.Is(err, ctx.Err()) || !rt.dbShared.Load() {
		return err
	}
	if db := rt.eng.DB().SQL(); db == nil || db.Stats().InUse == 0 {
		return err
	}
	return fmt.Errorf("nothing was emitted: the SQLite store's one connection stayed in use until the call gave up; "+
		"if the caller holds a transaction of Runtime.DB(), emit inside it with Runtime.EmitTx(ctx, hookrt.SQLTx(tx), fields) "+
		"(Emit waits for that transaction to end): %w", err)
}

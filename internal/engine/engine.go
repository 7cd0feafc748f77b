package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Options configure [Open]. The runtime fills them from its validated
// config; the engine does not check them again.
type Options struct {
	Store     StoreOptions
	Delivery  DeliveryOptions
	Retention RetentionOptions
	// ServerID fills SERVERID of events that lack one.
	ServerID string
	// Targets receive events, in routing order.
	Targets []hook.Target
	// SaveSessions indexes events with a SESSIONID into session records.
	SaveSessions bool
	// Logger receives the engine's records; nil discards.
	Logger *slog.Logger
	// Observer is called after every recorded outcome of a delivery.
	Observer func(context.Context, hook.Observation)
	// NoWorkers opens the store without delivery workers: Start does
	// nothing.
	NoWorkers bool
	// Metrics is where the engine registers its own collectors (rate
	// limits, order waits: metrics.go); nil: nobody gathers them.
	Metrics hook.MetricsRegistry
	// DeliveryProxy is [delivery] proxy, the egress proxy of targets whose
	// delivery settings name none: the engine only shows it, in
	// TargetStatus.Delivery (the targets' clients use it).
	DeliveryProxy string
	// PrivateDir is storage.private_dir: TargetStatus.Delivery shows the
	// v1a public key of a target's signing_key, read from there.
	PrivateDir string
}

// StoreOptions name the database.
type StoreOptions struct {
	Driver      string // "sqlite" or "postgres"
	Path        string // SQLite file
	DSN         string // PostgreSQL connection string
	Synchronous string // SQLite: "normal" or "full"
	CacheSize   int64  // SQLite: page cache bytes (0: store.DefaultCacheSize)
	MmapSize    int64  // SQLite: memory-mapped bytes (0: none)
}

// RetentionOptions say how long history is kept (see runtime.RetentionConfig).
type RetentionOptions struct {
	Keep        time.Duration // delivered and discarded deliveries; 0 keeps them
	Dead        time.Duration // dead letters; 0 keeps them
	Idempotency time.Duration // idempotency keys
	Interval    time.Duration // how often pruning runs; 0 never
}

// DeliveryOptions are the delivery policy (see runtime.DeliveryConfig).
type DeliveryOptions struct {
	Schedule         []time.Duration
	Jitter           float64
	Timeout          time.Duration
	MaxAge           time.Duration
	Workers          int
	RetryAfterCap    time.Duration
	BreakerThreshold int
	BreakerCooldown  time.Duration
	PollInterval     time.Duration
	// DisableAfter disables a target that has failed every attempt for
	// this long; 0 never does.
	DisableAfter time.Duration
}

// Engine is hookd's delivery engine: a store, the targets and the River
// workers that deliver to them. It is safe for concurrent use.
type Engine struct {
	log      *slog.Logger
	db       *store.DB
	q        jobQueue
	emits    *groupCommit[*emitItem]
	settles  *groupCommit[settle]
	direct   atomic.Pointer[directPath] // nil until Start
	serverID string
	sched    schedule
	timeout  time.Duration
	maxAge   time.Duration
	raCap    time.Duration
	observer func(context.Context, hook.Observation)
	// disableAfter: see DeliveryOptions.DisableAfter.
	disableAfter time.Duration

	delivery DeliveryOptions
	// unknownWait: see the constant; tests shorten it.
	unknownWait time.Duration
	// set is the current target set (targetset.go); setMu serializes its
	// changes.
	set   atomic.Pointer[targetSet]
	setMu sync.Mutex
	// queueJobTimeout is River's job timeout, fixed when the queue with
	// workers was built (0 before): no target may take longer.
	queueJobTimeout time.Duration
	saveSessions    atomic.Bool

	states stateCache // targets that are not enabled, from the store

	rescue    *rescuer                   // PostgreSQL: takes over the running jobs of dead nodes
	clock     atomic.Pointer[retryClock] // makes due retries available on time; nil until Start
	retention RetentionOptions
	health    healthProbe

	// stopping is set when Close begins: the node is no longer ready.
	stopping atomic.Bool
	// lifeMu orders Start against Close; started says Start ran.
	lifeMu    sync.Mutex
	started   bool
	noWorkers bool

	closeOnce sync.Once
	closeErr  error

	metrics *engineMetrics // what the delivery settings cost (metrics.go)
	// deliveryProxy, privateDir: see Options.DeliveryProxy, PrivateDir.
	deliveryProxy string
	privateDir    string

	// node is this engine's id in hookd_node, nodes how many nodes beat
	// lately (1 on SQLite); heart beats on PostgreSQL (nodes.go).
	node  string
	nodes atomic.Int64
	heart *heart
}

// target is a hook.Target with its schedule, breaker and in-flight count.
type target struct {
	hook.Target
	sched   schedule
	breaker *breaker
	// inflight counts attempts running now; at most maxInflight, so that a
	// target whose receiver hangs cannot hold every worker while its
	// breaker has not yet seen a failure.
	inflight    atomic.Int64
	maxInflight int64
	failing     failing // for the automatic disabling

	// life orders use against retire (targetset.go): users counts the
	// attempts under way, retired stops new ones once the target left
	// the set.
	life    sync.RWMutex
	retired bool
	users   sync.WaitGroup

	// filter is the compiled delivery.filter (nil: every event Match
	// wants); rate is the rate limit (nil: none). See Wants and
	// ratelimit.go.
	filter func(*hook.Event) bool
	rate   *rateLimit
}

// Wants reports whether t wants ev: its Match and its delivery filter
// both do. Routing asks this, so a filtered-out event gets no delivery.
func (t *target) Wants(ev *hook.Event) bool {
	return t.Target.Wants(ev) && (t.filter == nil || t.filter(ev))
}

// maxGroup bounds how many items one group-commit transaction carries.
const maxGroup = 256

// Open opens the store, migrates it, sets o.Targets and starts the
// delivery workers (unless o.NoWorkers): [New] and [Engine.Start] in one
// call, for callers whose targets are known before the store is open.
func Open(ctx context.Context, o Options) (*Engine, error) {
	e, err := New(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := e.Start(ctx); err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return e, nil
}

// New opens the store and migrates it, with o.Targets (often none) and no
// workers: modules that keep state in the store can then be provisioned
// with it, their targets set with [Engine.SetTargets], and the workers
// started with [Engine.Start]. Until then the engine stores what is
// emitted (routed to the targets set so far) and answers queries; it
// delivers nothing. Close it when done, started or not.
func New(ctx context.Context, o Options) (*Engine, error) {
	d := o.Delivery
	e := &Engine{
		log:          o.Logger,
		serverID:     o.ServerID,
		sched:        schedule{steps: d.Schedule, jitter: d.Jitter},
		timeout:      d.Timeout,
		maxAge:       d.MaxAge,
		raCap:        d.RetryAfterCap,
		disableAfter: d.DisableAfter,
		observer:     o.Observer,
		delivery:     d,
		unknownWait:  unknownWait,
		noWorkers:    o.NoWorkers,
		health:       newHealthProbe(),

		deliveryProxy: o.DeliveryProxy,
		privateDir:    o.PrivateDir,
		node:          nodeID(o.ServerID),
	}
	e.nodes.Store(1)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	m, err := newEngineMetrics(o.Metrics)
	if err != nil {
		return nil, fmt.Errorf("engine: metrics: %w", err)
	}
	e.metrics = m
	e.set.Store(&targetSet{byName: map[string]*target{}})
	if err := e.SetTargets(ctx, o.Targets, nil); err != nil { // before the store: a bad set opens nothing
		return nil, err
	}
	e.saveSessions.Store(o.SaveSessions)
	ok := false
	defer func() {
		if !ok {
			e.closeStore(ctx)
		}
	}()
	switch o.Store.Driver {
	case "postgres":
		e.db, err = store.OpenPostgres(ctx, o.Store.DSN)
	default:
		e.db, err = store.OpenSQLite(ctx, o.Store.Path, store.SQLiteOptions{Synchronous: o.Store.Synchronous,
			CacheSize: o.Store.CacheSize, MmapSize: o.Store.MmapSize})
	}
	if err != nil {
		return nil, err
	}
	if e.db.Lost() {
		e.log.ErrorContext(ctx, "the SQLite store was missing although one had been created here: starting an empty one; "+
			"the events and deliveries it held are gone", slog.String("path", o.Store.Path))
	}
	if err := e.db.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := e.db.MarkCreated(); err != nil {
		return nil, err
	}
	e.retention = o.Retention
	e.settles = newGroupCommit(maxGroup, e.commitSettleGroup, nil)
	e.emits = newGroupCommit(maxGroup, e.commitItems, e.emitStalled)
	e.q, err = newQueue(ctx, e.db, e.queueConfig())
	if err != nil {
		return nil, err
	}
	if err := e.states.refresh(ctx, e.db); err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// SetSaveSessions says whether events with a SESSIONID are indexed into
// session records (Options.SaveSessions): a module provisioned after New
// may want it.
func (e *Engine) SetSaveSessions(on bool) { e.saveSessions.Store(on) }

// queueConfig is the River configuration for the targets set now.
func (e *Engine) queueConfig() queueConfig {
	return queueConfig{
		workers:      e.delivery.Workers,
		pollInterval: e.delivery.PollInterval,
		jobTimeout:   e.jobTimeout(),
		logger:       riverLogger(e.log),
		worker:       &deliveryWorker{e: e},
		batchWorker:  &batchWorker{e: e},
		orderWorker:  &orderWorker{e: e},
		pruneWorker:  &pruneWorker{e: e},
		pruneEvery:   e.retention.Interval,
		noWorkers:    e.noWorkers,
	}
}

// Start starts the delivery workers: deliveries left unsettled by an
// earlier process are released (SQLite), River's workers, the direct
// path, the retry clock and the rescue of dead nodes' jobs (PostgreSQL)
// start. The longest target timeout at this point bounds River's job
// timeout: SetTargets refuses a slower target afterwards. With
// Options.NoWorkers it does nothing. It may be called once, before Close.
func (e *Engine) Start(ctx context.Context) error {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	switch {
	case e.stopping.Load():
		return fmt.Errorf("start workers: %w", hook.ErrClosed)
	case e.started:
		return errors.New("start workers: already started")
	case e.noWorkers:
		return nil
	}
	e.started = true
	e.setMu.Lock()
	c := e.queueConfig()
	e.queueJobTimeout = c.jobTimeout
	e.setMu.Unlock()
	if err := e.releaseOrphans(ctx); err != nil {
		return err
	}
	e.heart = startHeart(ctx, e) // the rate limits divided before the first delivery
	if err := e.q.start(ctx, c); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	e.direct.Store(newDirectPath(e.delivery.Workers))
	e.clock.Store(clockFor(e.log, e.q))
	e.rescue = startRescue(e)
	if e.db.Dialect() == store.Postgres {
		e.log.InfoContext(ctx, "a node's running deliveries are taken over by the others if it stops",
			slog.Duration("within", e.RescueBound()))
	}
	return nil
}

// CheckTargets refuses targets the engine cannot run: without a name or
// a handler, combining without a batch handler, a name used twice, or
// delivery settings that are invalid (settings.go).
// Open calls it; runtime.Check too, so that check refuses what serve does.
func CheckTargets(ts []hook.Target) error {
	seen := make(map[string]bool, len(ts))
	for _, t := range ts {
		if t.Name == "" || t.Handler == nil {
			return errors.New("a target needs a name and a handler")
		}
		if _, ok := t.Handler.(hook.BatchHandler); t.Policy.Combine > 0 && !ok {
			return fmt.Errorf("target %q combines events but its handler cannot handle a batch", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("target %q defined twice", t.Name)
		}
		seen[t.Name] = true
		if err := checkDelivery(t); err != nil {
			return err
		}
	}
	return nil
}

// newTarget gives t its schedule, breaker, in-flight cap, filter and
// rate limit; an error only for a filter that does not compile (which
// CheckTargets refuses first).
func (e *Engine) newTarget(t hook.Target) (*target, error) {
	filter, err := compileFilter(t.Delivery)
	if err != nil {
		return nil, fmt.Errorf("target %q: delivery: %w", t.Name, err)
	}
	d := e.delivery
	tt := &target{
		Target: t,
		sched:  e.sched,
		breaker: &breaker{
			threshold: d.BreakerThreshold,
			sched:     e.sched,
			cap:       d.BreakerCooldown,
		},
		maxInflight: int64(max(1, d.Workers/2)),
		filter:      filter,
		rate:        newRateLimit(t.Delivery, int(e.nodes.Load())),
	}
	if len(t.Policy.Schedule) > 0 {
		tt.sched = schedule{steps: t.Policy.Schedule, jitter: e.sched.jitter}
	}
	tt.breaker.sched = tt.sched
	return tt, nil
}

// Targets returns the names of the targets, in routing order.
func (e *Engine) Targets() []string {
	order := e.current().order
	names := make([]string, len(order))
	for i, t := range order {
		names[i] = t.Name
	}
	return names
}

// DB returns the store.
func (e *Engine) DB() *store.DB { return e.db }

// Health reports whether the store answers and takes writes (a full disk
// is unhealthy). The write probe runs at most once a second; callers in
// between get its last result.
func (e *Engine) Health(ctx context.Context) error { return e.health.check(ctx, e.db) }

// Ready reports whether the node should get traffic: it is not stopping,
// and the store took the last write asked of it. The first emit whose
// commit the store refuses makes the node unready, the next good one
// ready again; the write probe covers the time no emits come in (see
// healthProbe).
func (e *Engine) Ready(ctx context.Context) error {
	if e.stopping.Load() {
		return fmt.Errorf("stopping: %w", hook.ErrClosed)
	}
	return e.health.ready(ctx, e.db)
}

// Close stops the workers (in-flight attempts finish, or are released to
// be retried at the next start if they outlast ctx), commits what was
// handed in and closes the store. It is safe to call more than once.
func (e *Engine) Close(ctx context.Context) error {
	e.stopping.Store(true)
	e.closeOnce.Do(func() {
		e.lifeMu.Lock()
		defer e.lifeMu.Unlock()
		var errs []error
		e.rescue.stop()
		e.clock.Load().stop()
		var wg sync.WaitGroup
		wg.Go(func() { e.direct.Load().stop(ctx) })
		if err := e.q.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop workers: %w", err))
		}
		wg.Wait()
		e.heart.stop(ctx, e)
		if err := e.closeStore(ctx); err != nil {
			errs = append(errs, err)
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// closeStore ends the group commits (after the workers stopped) and closes
// the store.
func (e *Engine) closeStore(ctx context.Context) error {
	if e.emits != nil {
		e.emits.close(ctx)
	}
	if e.settles != nil {
		e.settles.close(ctx)
	}
	if e.db == nil {
		return nil
	}
	return e.db.Close()
}

// riverLogger keeps River's own chatter at warning level and above, and
// logs an error it repeats on every poll once per interval, with a count.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(newDedup(minLevel{l.Handler(), slog.LevelWarn}, dedupInterval)).With(slog.String("component", "river"))
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }

// commitSettleGroup commits a group of attempt records (commitSettles)
// and notes the due time of the jobs it added on the retry clock, now
// that they are committed. It does not call begin: a worker that gives up
// waiting (it is stopping) leaves its record to the commit or not; its
// delivery is attempted again either way.
func (e *Engine) commitSettleGroup(ctx context.Context, items []settle, _ func() []bool) []error {
	errs := e.commitSettles(ctx, items)
	for i, it := range items {
		if it.add != nil && errs[i] == nil {
			e.clock.Load().note(it.add.at)
		}
	}
	return errs
}

// emitStalled says that emits have waited long for their transaction: on
// SQLite, most likely a transaction or rows of the embedding program's
// held open on the store's one connection, which no emit can pass.
func (e *Engine) emitStalled(waited time.Duration) {
	msg := "emits have waited for the store's transaction to begin"
	if e.db.Dialect() == store.SQLite {
		msg += "; on SQLite a transaction or rows of Runtime.DB() held open block every emit: " +
			"a program emitting while it holds such a transaction must use Runtime.EmitTx with it"
	}
	e.log.Warn(msg, slog.Duration("waited", waited.Round(time.Millisecond)))
}

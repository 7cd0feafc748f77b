package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
	"github.com/hookrt/hookd/internal/store"
)

// Runtime is a running hookd: a store, the configured targets and the
// delivery workers. It is safe for concurrent use.
type Runtime struct {
	log      *slog.Logger
	db       *store.DB
	q        jobQueue
	rec      *recorder
	emitter  *emitter
	serverID string
	sched    schedule
	timeout  time.Duration
	maxAge   time.Duration
	raCap    time.Duration
	observer func(context.Context, Observation)

	targets map[string]*target
	order   []*target // config order, for routing
	modules []hook.Module
	byID    map[string]hook.Module
	jwks    []byte
	// saveSessions indexes events with a SESSIONID into session records.
	saveSessions bool

	mu       sync.RWMutex
	disabled map[string]string // target -> reason

	closeOnce sync.Once
	closeErr  error
}

// target is a configured hook.Target with its breaker and in-flight count.
type target struct {
	hook.Target
	sched   schedule
	breaker *breaker
	// inflight counts attempts running now; at most maxInflight, so that a
	// target whose receiver hangs cannot hold every worker while its
	// breaker has not yet seen a failure.
	inflight    atomic.Int64
	maxInflight int64
}

// Open opens the store named by cfg, migrates it, provisions the configured
// modules and starts the delivery workers.
func Open(ctx context.Context, cfg *config.Config, opts ...Option) (*Runtime, error) {
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
	d := cfg.Delivery
	rt := &Runtime{
		log:      o.logger,
		serverID: cfg.Server.ServerID,
		sched:    schedule{steps: durations(d.RetrySchedule), jitter: d.Jitter},
		timeout:  time.Duration(d.Timeout),
		maxAge:   time.Duration(d.MaxAge),
		raCap:    time.Duration(d.RetryAfterCap),
		observer: o.observer,
		targets:  map[string]*target{},
		disabled: map[string]string{},
	}
	if rt.serverID == "" {
		rt.serverID, _ = os.Hostname()
	}
	ok := false
	defer func() {
		if !ok {
			rt.closeModules()
			if rt.rec != nil {
				rt.rec.close()
			}
			if rt.emitter != nil {
				rt.emitter.close()
			}
			if rt.db != nil {
				rt.db.Close()
			}
		}
	}()
	if err := rt.provision(ctx, cfg, o); err != nil {
		return nil, err
	}
	var err error
	switch cfg.Store.Driver {
	case "postgres":
		rt.db, err = store.OpenPostgres(ctx, cfg.Store.DSN)
	default:
		rt.db, err = store.OpenSQLite(ctx, cfg.Store.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if err := rt.db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	rt.rec = newRecorder(rt.db)
	rt.emitter = newEmitter(rt)
	rt.q, err = newQueue(ctx, rt.db, queueConfig{
		workers:      d.Workers,
		pollInterval: time.Duration(d.PollInterval),
		timeout:      rt.timeout,
		logger:       riverLogger(rt.log),
		worker:       &worker{rt: rt},
		batchWorker:  &batchWorker{rt: rt},
		noWorkers:    o.noWorkers,
	})
	if err != nil {
		return nil, err
	}
	if rt.disabled, err = rt.db.DisabledTargets(ctx); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if !o.noWorkers {
		if n, err := rt.db.ReleaseOrphanedJobs(ctx); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		} else if n > 0 {
			rt.log.InfoContext(ctx, "released deliveries interrupted by an earlier stop", slog.Int64("jobs", n))
		}
		if err := rt.q.start(ctx); err != nil {
			return nil, fmt.Errorf("runtime: start workers: %w", err)
		}
	}
	ok = true
	return rt, nil
}

// provision builds every configured module (in section-name order, so that
// routing and errors are deterministic) and the extra targets.
func (rt *Runtime) provision(ctx context.Context, cfg *config.Config, o options) error {
	ids := make([]string, 0, len(cfg.Modules))
	for id := range cfg.Modules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var keys []json.RawMessage
	ua := "hookd/" + o.version
	lookup := func(id string) (hook.Module, bool) { m, ok := cfg.Modules[id]; return m, ok }
	for _, id := range ids {
		m := cfg.Modules[id]
		if p, ok := m.(hook.Provisioner); ok {
			env := hook.Env{
				Logger:         rt.log.With(slog.String("module", id)),
				PrivateDir:     cfg.Storage.PrivateDir,
				RequestTimeout: rt.timeout,
				UserAgent:      ua,
				Lookup:         lookup,
				Resolve:        cfg.Resolve,
			}
			if err := p.Provision(ctx, env); err != nil {
				return fmt.Errorf("%s: [%s]: %w", cfg.Path, id, err)
			}
		}
		rt.modules = append(rt.modules, m)
		if rt.byID == nil {
			rt.byID = map[string]hook.Module{}
		}
		rt.byID[id] = m
		for _, t := range m.Targets() {
			if err := rt.addTarget(t, cfg); err != nil {
				return fmt.Errorf("%s: [%s]: %w", cfg.Path, id, err)
			}
		}
		if pub, ok := m.(hook.JWKSPublisher); ok {
			keys = append(keys, pub.PublicJWKs()...)
		}
		if ss, ok := m.(hook.SessionSaver); ok && ss.SaveToSession() {
			rt.saveSessions = true
		}
	}
	for _, t := range o.targets {
		if err := rt.addTarget(t, cfg); err != nil {
			return fmt.Errorf("runtime: %w", err)
		}
	}
	if keys == nil {
		keys = []json.RawMessage{}
	}
	rt.jwks, _ = json.Marshal(map[string]any{"keys": keys})
	return nil
}

func (rt *Runtime) addTarget(t hook.Target, cfg *config.Config) error {
	if t.Name == "" || t.Handler == nil {
		return errors.New("target needs a name and a handler")
	}
	if _, ok := t.Handler.(hook.BatchHandler); t.Policy.Combine > 0 && !ok {
		return fmt.Errorf("target %q combines events but its handler cannot handle a batch", t.Name)
	}
	if _, dup := rt.targets[t.Name]; dup {
		return fmt.Errorf("target %q defined twice", t.Name)
	}
	d := cfg.Delivery
	tt := &target{
		Target: t,
		sched:  rt.sched,
		breaker: &breaker{
			threshold: d.BreakerThreshold,
			base:      time.Duration(d.BreakerCooldown),
			cap:       max(10*time.Minute, time.Duration(d.BreakerCooldown)),
		},
	}
	if len(t.Policy.Schedule) > 0 {
		tt.sched = schedule{steps: t.Policy.Schedule, jitter: rt.sched.jitter}
	}
	tt.maxInflight = int64(max(1, d.Workers/2))
	rt.targets[t.Name] = tt
	rt.order = append(rt.order, tt)
	return nil
}

// Module returns the provisioned module configured under id (its config
// section), e.g. the External WebAPI service for its synchronous calls.
func (rt *Runtime) Module(id string) (hook.Module, bool) {
	m, ok := rt.byID[id]
	return m, ok
}

// Reload asks every module that can (hook.Reloader) to pick up changed
// files, e.g. rebuilt WASM plugins. A module whose reload fails keeps what
// it had; the errors are joined.
func (rt *Runtime) Reload(ctx context.Context) error {
	var errs []error
	for _, m := range rt.modules {
		if r, ok := m.(hook.Reloader); ok {
			if err := r.Reload(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Targets returns the names of the configured targets, in routing order.
func (rt *Runtime) Targets() []string {
	names := make([]string, len(rt.order))
	for i, t := range rt.order {
		names[i] = t.Name
	}
	return names
}

// Store returns the runtime's store, for embedding proxies that want to
// emit inside their own transactions on the same database.
func (rt *Runtime) Store() *store.DB { return rt.db }

// Close stops the workers (in-flight attempts finish, or are released to be
// retried at the next start if they outlast ctx), closes the modules and
// the store. It is safe to call more than once.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.closeOnce.Do(func() {
		var errs []error
		if rt.q != nil {
			if err := rt.q.stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop workers: %w", err))
			}
		}
		rt.emitter.close()
		rt.rec.close()
		rt.closeModules()
		if err := rt.db.Close(); err != nil {
			errs = append(errs, err)
		}
		rt.closeErr = errors.Join(errs...)
	})
	return rt.closeErr
}

func (rt *Runtime) closeModules() {
	for _, m := range rt.modules {
		if c, ok := m.(hook.Closer); ok {
			if err := c.Close(); err != nil {
				rt.log.Warn("closing module", slog.Any("error", err))
			}
		}
	}
	rt.modules = nil
}

func durations(ds []config.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}

// riverLogger keeps River's own chatter at warning level and above.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(minLevel{l.Handler(), slog.LevelWarn}).With(slog.String("component", "river"))
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

// Check provisions the configured modules (reading their key files) and
// closes them again, without touching the store: what `hookd check` and
// `hookd keys jwks` need. It returns the JWK set the runtime would serve.
func Check(ctx context.Context, cfg *config.Config, opts ...Option) ([]byte, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	rt := &Runtime{log: o.logger, targets: map[string]*target{}, timeout: time.Duration(cfg.Delivery.Timeout)}
	defer rt.closeModules()
	if err := rt.provision(ctx, cfg, o); err != nil {
		return nil, err
	}
	return rt.jwks, nil
}

package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/store"
)

// modules are the provisioned modules of one Open (or Check): fresh
// values made from the config's sections, and what they provide.
type modules struct {
	log    *slog.Logger
	list   []hook.Module // in ID order, every one whose Provision was called
	byID   map[string]hook.Module
	tgts   []hook.Target
	jwks   []byte
	routes []hook.Route
	// saveSessions: a module wants events with a SESSIONID indexed.
	saveSessions bool
}

// services are what the runtime gives every module besides its config:
// the plugins' state store and the sign-up decider. Open provisions the
// modules once the store is open, so both are the real ones from the
// start (a plugin may keep state from its hookd_v1_init on).
type services struct {
	state  hook.StateStore
	signup hook.SignupDecider
}

// provision makes a fresh value of every module section of cfg (in ID
// order, so that routing and errors are deterministic), provisions it and
// collects its targets, public keys and routes. A module whose Provision
// was called is closed by [modules.close] whether or not it succeeded; on
// error, provision closes them itself. Every module is provisioned even
// after one fails, and the error joins every failure, one line each. A
// section that is off ([Config.Off]) is not provisioned; it is logged once.
func provision(ctx context.Context, cfg *Config, o options, sv services) (*modules, error) {
	ms := &modules{log: o.logger, byID: map[string]hook.Module{}}
	sections := make(map[string]hook.Module, len(cfg.Modules))
	for id, m := range cfg.Modules {
		sections[id] = m
	}
	lookup := func(id string) (hook.Module, bool) { m, ok := sections[id]; return m, ok }
	keys := []json.RawMessage{}
	var errs []error
	for _, id := range cfg.moduleIDs() {
		if why := offReason(sections[id]); why != "" {
			o.logger.InfoContext(ctx, offMessage(id, why), slog.String("module", id))
			continue
		}
		m := fresh(sections[id])
		ms.list = append(ms.list, m)
		ms.byID[id] = m
		if p, ok := m.(hook.Provisioner); ok {
			env := hook.Env{
				Logger:         o.logger.With(slog.String("module", id)),
				PrivateDir:     cfg.Storage.PrivateDir,
				RequestTimeout: cfg.Delivery.timeout(),
				UserAgent:      "hookd/" + o.version,
				DeliveryProxy:  cfg.Delivery.Proxy,
				Lookup:         lookup,
				Resolve:        cfg.Resolve,
				State:          sv.state,
				Signup:         sv.signup,
				Metrics:        o.metrics,
			}
			if err := p.Provision(ctx, env); err != nil {
				// Go on with the others, so that every module's problem
				// (a key file, a plugin) is reported at once.
				v := config.Validator{File: cfg.name()}
				v.Module(id, err) // "config.toml: [id]: …", one per problem
				errs = append(errs, v.Errs()...)
				if ctx.Err() != nil {
					break
				}
				continue
			}
		}
		ms.tgts = append(ms.tgts, m.Targets()...)
		if pub, ok := m.(hook.JWKSPublisher); ok {
			keys = append(keys, pub.PublicJWKs()...)
		}
		if ss, ok := m.(hook.SessionSaver); ok && ss.SaveToSession() {
			ms.saveSessions = true
		}
		if rp, ok := m.(hook.RouteProvider); ok {
			ms.routes = append(ms.routes, rp.Routes()...)
		}
	}
	if len(errs) > 0 {
		ms.close()
		config.SortErrors(errs, cfg.keys) // in file order, as the config's own problems
		return nil, errors.Join(errs...)
	}
	ms.tgts = append(ms.tgts, o.targets...)
	ms.jwks, _ = json.Marshal(map[string]any{"keys": keys})
	return ms, nil
}

// fresh returns a new value of m's type holding a copy of m: the module a
// load provisions, so that the config's own value is never the live one.
// The copy is shallow: config fields are only read, and live state lives
// in fields that are zero in a config.
func fresh(m hook.Module) hook.Module {
	v := reflect.ValueOf(m)
	c := reflect.New(v.Type().Elem())
	c.Elem().Set(v.Elem())
	return c.Interface().(hook.Module)
}

// isModuleValue reports whether m can be copied by fresh: a non-nil
// pointer.
func isModuleValue(m hook.Module) bool {
	v := reflect.ValueOf(m)
	return v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil()
}

// close closes every module whose Provision was called, in reverse order.
func (ms *modules) close() error {
	var errs []error
	for i := len(ms.list) - 1; i >= 0; i-- {
		if c, ok := ms.list[i].(hook.Closer); ok {
			if err := c.Close(); err != nil {
				ms.log.Warn("closing module", slog.Any("error", err))
				errs = append(errs, err)
			}
		}
	}
	ms.list = nil
	return errors.Join(errs...)
}

// reload asks every module that can (hook.Reloader) to pick up changed
// files. A module whose reload fails keeps what it had.
func (ms *modules) reload(ctx context.Context) error {
	var errs []error
	for _, m := range ms.list {
		if r, ok := m.(hook.Reloader); ok {
			if err := r.Reload(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// CheckStore checks that the store of cfg could be opened, without
// creating or changing anything: the SQLite file or its directory is
// writable, or the PostgreSQL DSN connects. `hookd check` runs it unless
// told to stay offline.
func CheckStore(ctx context.Context, cfg *Config) error {
	dsn, err := cfg.Store.dsn()
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.name(), err)
	}
	if err := store.Probe(ctx, cfg.Store.Driver, cfg.Store.Path, dsn); err != nil {
		return fmt.Errorf("%s: [store]: %s", cfg.name(), strings.TrimPrefix(err.Error(), "store: "))
	}
	if cfg.Store.Driver == DriverSQLite {
		if err := store.CheckLock(cfg.Store.Path); err != nil {
			return fmt.Errorf("%s: store.path: %w", cfg.name(), err)
		}
	}
	return nil
}

// Check does what [Open] does, without the store, and undoes it: it
// validates cfg, provisions fresh modules (reading their key files,
// compiling their plugins and running their hookd_v1_init, with plugin
// state in memory, thrown away) and closes them again. It returns the JWK set
// the runtime would serve. `hookd check` and `hookd keys jwks` use it, so
// that check refuses what serve refuses.
func Check(ctx context.Context, cfg *Config, opts ...Option) ([]byte, error) {
	o := newOptions(opts)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := cfg.Store.dsn(); err != nil { // the DSN file, as Open reads it
		return nil, fmt.Errorf("%s: %w", cfg.name(), err)
	}
	ms, err := provision(ctx, cfg, o, services{state: store.NewMemoryState()})
	if err != nil {
		return nil, err
	}
	if err := engine.CheckTargets(ms.tgts); err != nil {
		ms.close()
		return nil, fmt.Errorf("%s: %w", cfg.name(), err)
	}
	return ms.jwks, ms.close()
}

package httpevents

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// Target names.
const (
	GlobalTarget       = "http_events.global"
	DomainTargetPrefix = "http_events.domain."
)

// laxPolicy: not strict means one attempt; only transport errors get two
// quick retries, well inside one request timeout.
var laxPolicy = hook.Policy{MaxAttempts: 3, Schedule: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond}}

var (
	_ hook.Module         = (*Events)(nil)
	_ hook.Validator      = (*Events)(nil)
	_ hook.Provisioner    = (*Events)(nil)
	_ hook.Closer         = (*Events)(nil)
	_ hook.SessionSaver   = (*Events)(nil)
	_ hook.Reloader       = (*Events)(nil)
	_ hook.PluginReporter = (*Events)(nil)
	_ hook.Module         = (*Domains)(nil)
	_ hook.Validator      = (*Domains)(nil)
	_ hook.Warner         = (*Domains)(nil)
)

// Provision builds the global target and one target per domain script.
func (e *Events) Provision(ctx context.Context, env hook.Env) error {
	timeout := time.Duration(e.Timeout)
	if timeout == 0 {
		timeout = env.RequestTimeout
	}
	newClient := func(guard *outbound.Guard) *outbound.Client {
		c := outbound.New(outbound.Options{Timeout: timeout, UserAgent: env.UserAgent, MaxBody: xmlmsg.MaxReply, Guard: guard})
		e.clients = append(e.clients, c)
		return c
	}
	policy := func(strict bool, combine time.Duration) hook.Policy {
		p := hook.Policy{}
		if !strict {
			p = laxPolicy
		}
		p.Timeout, p.Combine = timeout, combine
		return p
	}
	if e.Global {
		u, err := e.globalURL()
		if err != nil {
			return err
		}
		e.targets = append(e.targets, hook.Target{
			Name:    GlobalTarget,
			Handler: &script{url: u, strict: e.GlobalStrict, client: newClient(nil)},
			Match:   notInternal,
			Policy:  policy(e.GlobalStrict, time.Duration(e.CombineInterval)),
		})
		env.Logger.Info("global HTTP events", slog.String("url", u), slog.Bool("strict", e.GlobalStrict))
	}
	var domains Domains
	if m, ok := env.Lookup(DomainID); ok {
		domains = *m.(*Domains) // its own section type
	}
	if !e.PerDomain {
		return nil // Domains.Warnings says so at start
	}
	allow, err := outbound.ParsePrefixes(e.AllowPrivate)
	if err != nil {
		return fmt.Errorf("allow_private: %w", err)
	}
	guard := outbound.NewGuard(allow)
	client := newClient(guard)
	var settings *wasmscript.Plugins
	if m, ok := env.Lookup(wasmscript.ID); ok {
		settings = m.(*wasmscript.Plugins)
	}
	for _, d := range domains {
		strict := e.PerDomainStrict
		if d.Strict != nil {
			strict = *d.Strict
		}
		combine := time.Duration(e.CombineInterval)
		if d.CombineInterval != nil {
			combine = time.Duration(*d.CombineInterval)
		}
		id := d.ID
		var h hook.Handler = &script{url: d.Script, strict: strict, client: client}
		p := policy(strict, combine)
		if d.IsPlugin() {
			if e.plugins == nil {
				host, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{CacheDir: env.Resolve(settings.CacheDirOrDefault()),
					PrivateDir: env.PrivateDir, UserAgent: env.UserAgent, Logger: env.Logger, Counters: env.Count()})
				if err != nil {
					return err
				}
				e.plugins = host
			}
			spec := d.Spec(env.Resolve, strict)
			spec.Settings = spec.Settings.WithState(env.State, id) // state = true: the runtime's store
			sc, err := e.plugins.Load(ctx, spec)
			if err != nil {
				return fmt.Errorf("[[domain]] id %q: %w", id, err) // the plugin's errors name its file
			}
			h = sc
			p.Timeout = 0 // the plugin's own deadline applies inside the delivery timeout
			env.Logger.Info("domain plugin loaded", slog.String("domain", id), slog.String("path", sc.Path()),
				slog.String("sha256", sc.SHA256()), slog.Bool("strict", strict))
		}
		e.targets = append(e.targets, hook.Target{
			Name:    DomainTargetPrefix + id,
			Handler: h,
			Match:   func(ev *hook.Event) bool { return ev.DomainID() == id && notInternal(ev) },
			Policy:  p,
		})
	}
	if e.plugins != nil {
		e.plugins.Watch(settings.ReloadIntervalOrDefault())
	}
	if len(domains) == 0 {
		env.Logger.Warn("per_domain is on but no [[domain]] has a script")
	}
	return nil
}

// notInternal keeps hookd's own command events away from scripts.
func notInternal(ev *hook.Event) bool { return !strings.EqualFold(ev.Module(), "HOOKD") }

// Targets implements hook.Module.
func (e *Events) Targets() []hook.Target { return e.targets }

// Close stops plugin reloading, closes the plugins and releases idle
// connections.
func (e *Events) Close() error {
	for _, c := range e.clients {
		c.CloseIdleConnections()
	}
	if e.plugins != nil {
		return e.plugins.Close()
	}
	return nil
}

// Plugins implements hook.PluginReporter: where each domain's WASM plugin
// stands (none when no domain script is a plugin).
func (e *Events) Plugins() []hook.PluginStatus {
	if e.plugins == nil {
		return nil
	}
	return e.plugins.Plugins()
}

// Reload picks up changed plugin files (SIGHUP).
func (e *Events) Reload(ctx context.Context) error {
	if e.plugins == nil {
		return nil
	}
	return e.plugins.Reload(ctx)
}

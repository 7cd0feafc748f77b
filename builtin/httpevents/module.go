package httpevents

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
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

// Provision builds the global target and one target per [[domain]]
// entry (BuildDomain), and keeps what BuildDomain needs for the domains
// the runtime adds later (stored domains, issue 17).
func (e *Events) Provision(ctx context.Context, env hook.Env) error {
	timeout := time.Duration(e.Timeout)
	if timeout == 0 {
		timeout = env.RequestTimeout
	}
	l := &live{env: env, timeout: timeout}
	e.live = l
	if e.Global {
		u, err := e.globalURL()
		if err != nil {
			return err
		}
		h, err := delivery.Build(e.Delivery, l.deliveryEnv())
		if err != nil {
			return delivery.Prefix("delivery:", err)
		}
		e.targets = append(e.targets, hook.Target{
			Name:     GlobalTarget,
			Handler:  &script{url: u, strict: e.GlobalStrict, client: l.newClient(h.Options(l.base(nil)))},
			Match:    notInternal,
			Policy:   e.policy(e.GlobalStrict, time.Duration(e.CombineInterval)),
			Delivery: e.Delivery,
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
	l.guard = outbound.NewGuard(allow)
	shared, err := delivery.Build(nil, l.deliveryEnv()) // [delivery] proxy, if any
	if err != nil {
		return delivery.Prefix("delivery:", err)
	}
	l.client = l.newClient(shared.Options(l.base(l.guard)))
	if m, ok := env.Lookup(wasmscript.ID); ok {
		l.settings = m.(*wasmscript.Plugins)
	}
	for _, d := range domains {
		t, _, err := e.BuildDomain(ctx, d) // closed with the module (Close)
		if err != nil {
			return err
		}
		e.targets = append(e.targets, t)
	}
	if h := l.host(); h != nil {
		h.Watch(l.settings.ReloadIntervalOrDefault())
	}
	if len(domains) == 0 {
		env.Logger.Warn("per_domain is on but no [[domain]] has a script")
	}
	return nil
}

// live is what Provision sets up and BuildDomain builds with: the
// runtime's Env, the per-domain client (with the SSRF guard) and the
// plugin host, made when the first plugin is loaded. A pointer, so that
// Effective's copy of the section leaves it behind.
type live struct {
	env      hook.Env
	timeout  time.Duration
	settings *wasmscript.Plugins
	guard    *outbound.Guard  // the SSRF guard of every domain's client; nil when per_domain is off
	client   *outbound.Client // the domains' URL scripts without HTTP settings of their own; nil when per_domain is off

	mu      sync.Mutex
	clients []*outbound.Client
	plugins *wasmscript.Host
}

// base is the outbound options of every script's client, before its
// delivery settings: guard for the domains' scripts, nil for the global
// one (the operator's own server).
func (l *live) base(guard *outbound.Guard) outbound.Options {
	return outbound.Options{Timeout: l.timeout, UserAgent: l.env.UserAgent, MaxBody: xmlmsg.MaxReply, Guard: guard}
}

// deliveryEnv is what delivery.Build reads files from and falls back to.
func (l *live) deliveryEnv() delivery.Env {
	return delivery.Env{PrivateDir: l.env.PrivateDir, Proxy: l.env.DeliveryProxy}
}

// newClient makes a client that the module closes with itself.
func (l *live) newClient(o outbound.Options) *outbound.Client {
	c := outbound.New(o)
	l.mu.Lock()
	l.clients = append(l.clients, c)
	l.mu.Unlock()
	return c
}

// dropClient closes c, made by newClient, and forgets it: its target was
// replaced or removed (a stored domain changed).
func (l *live) dropClient(c *outbound.Client) {
	l.mu.Lock()
	l.clients = slices.DeleteFunc(l.clients, func(x *outbound.Client) bool { return x == c })
	l.mu.Unlock()
	c.CloseIdleConnections()
}

// host returns the plugin host, nil until a plugin was loaded.
func (l *live) host() *wasmscript.Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.plugins
}

// ensureHost returns the plugin host, made on first use.
func (l *live) ensureHost(ctx context.Context) (*wasmscript.Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plugins == nil {
		env := l.env
		host, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{CacheDir: env.Resolve(l.settings.CacheDirOrDefault()),
			PrivateDir: env.PrivateDir, UserAgent: env.UserAgent, Logger: env.Logger, Metrics: env.Metrics})
		if err != nil {
			return nil, err
		}
		l.plugins = host
	}
	return l.plugins, nil
}

// policy is the delivery policy of a script: one attempt (plus quick
// retries of transport errors) unless strict, within the section's
// timeout, combining events within combine.
func (e *Events) policy(strict bool, combine time.Duration) hook.Policy {
	p := hook.Policy{}
	if !strict {
		p = laxPolicy
	}
	p.Timeout, p.Combine = e.live.timeout, combine
	return p
}

// BuildDomain builds one domain's delivery target: its name
// (DomainTargetPrefix + id), the events it matches, its policy, its
// delivery settings, and its handler, a URL script (through a client of
// its own when its delivery settings need one: headers, signing, TLS,
// proxy) or a WebAssembly plugin (from its file or its stored bytes,
// d.Module) loaded exactly as at start; and the function
// that closes the handler once the target is no longer used. Provision
// builds every [[domain]] entry with it, and the runtime every stored
// domain, so that both are judged and run by the same code.
//
//	t, closeOld, err := events.BuildDomain(ctx, d) // d validated with Domains{d}.Validate()
//
// # Notes
//
//   - The section must be provisioned, with per_domain on; otherwise the
//     error says that such a domain would receive nothing.
//   - Errors start with "[[domain]] id %q: "; a plugin's name its file.
//   - Loading a plugin compiles it and starts its instances: never on the
//     event path. Its status joins [Events.Plugins] until it is closed.
//   - Safe for concurrent use with the module's deliveries and reloads.
func (e *Events) BuildDomain(ctx context.Context, d Domain) (hook.Target, func(context.Context) error, error) {
	id := d.ID
	l := e.live
	if l == nil || l.client == nil {
		return hook.Target{}, nil, fmt.Errorf("[[domain]] id %q: [http_events] per_domain is off, so a domain script would receive nothing", id)
	}
	strict := e.PerDomainStrict
	if d.Strict != nil {
		strict = *d.Strict
	}
	combine := time.Duration(e.CombineInterval)
	if d.CombineInterval != nil {
		combine = time.Duration(*d.CombineInterval)
	}
	if err := delivery.CheckCombine(&d.Delivery, combine); err != nil { // [http_events] combine_interval, inherited
		return hook.Target{}, nil, delivery.Prefix(fmt.Sprintf("[[domain]] id %q: delivery:", id), err)
	}
	var settings *hook.DeliverySettings
	if !d.Delivery.IsZero() {
		settings = &d.Delivery
	}
	var h hook.Handler
	closer := func(context.Context) error { return nil } // the client is shared, closed with the module
	p := e.policy(strict, combine)
	if !d.IsPlugin() {
		client, err := l.domainClient(settings)
		if err != nil {
			return hook.Target{}, nil, delivery.Prefix(fmt.Sprintf("[[domain]] id %q: delivery:", id), err)
		}
		if client != l.client {
			closer = func(context.Context) error { l.dropClient(client); return nil }
		}
		h = &script{url: d.Script, strict: strict, client: client}
	} else {
		if k := httpKey(&d.Delivery); k != "" { // a stored domain's "" script: Validate took it for a URL
			return hook.Target{}, nil, pluginHTTP(fmt.Sprintf("[[domain]] id %q", id), k)
		}
		host, err := l.ensureHost(ctx)
		if err != nil {
			return hook.Target{}, nil, err
		}
		spec := d.Spec(l.env.Resolve, strict)
		spec.Settings = spec.Settings.WithState(l.env.State, id) // state = true: the runtime's store
		sc, err := host.Load(ctx, spec)
		if err != nil {
			return hook.Target{}, nil, fmt.Errorf("[[domain]] id %q: %w", id, err) // the plugin's errors name its file
		}
		h = sc
		closer = func(ctx context.Context) error { return host.Unload(ctx, sc) }
		p.Timeout = 0 // the plugin's own deadline applies inside the delivery timeout
		l.env.Logger.Info("domain plugin loaded", slog.String("domain", id), slog.String("path", sc.Path()),
			slog.String("sha256", sc.SHA256()), slog.Bool("strict", strict), slog.Bool("stored", d.Module != nil))
	}
	return hook.Target{
		Name:     DomainTargetPrefix + id,
		Handler:  h,
		Match:    func(ev *hook.Event) bool { return ev.DomainID() == id && notInternal(ev) },
		Policy:   p,
		Delivery: settings,
	}, closer, nil
}

// domainClient returns the client of a domain's URL script with delivery
// settings s: the shared one (which goes through [delivery] proxy, if
// any) when s sets nothing of a client's (no headers, signing, TLS or
// proxy: a filter, a rate limit or an order need none), else a client of
// its own, with the SSRF guard like every domain's (and through a proxy,
// the guard checks the destination and the proxy's address both:
// internal/outbound). A proxy = "direct" is a setting of its own: the
// shared client would take the default proxy.
func (l *live) domainClient(s *hook.DeliverySettings) (*outbound.Client, error) {
	if s == nil || httpKey(s) == "" {
		return l.client, nil
	}
	h, err := delivery.Build(s, l.deliveryEnv())
	if err != nil {
		return nil, err
	}
	return l.newClient(h.Options(l.base(l.guard))), nil
}

// notInternal keeps hookd's own command events away from scripts.
func notInternal(ev *hook.Event) bool { return !strings.EqualFold(ev.Module(), "HOOKD") }

// Targets implements hook.Module.
func (e *Events) Targets() []hook.Target { return e.targets }

// Close stops plugin reloading, closes the plugins and releases idle
// connections.
func (e *Events) Close() error {
	if e.live == nil {
		return nil
	}
	e.live.mu.Lock()
	clients, plugins := e.live.clients, e.live.plugins
	e.live.mu.Unlock()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	if plugins != nil {
		return plugins.Close()
	}
	return nil
}

// Plugins implements hook.PluginReporter: where each domain's WASM plugin
// stands (none when no domain script is a plugin).
func (e *Events) Plugins() []hook.PluginStatus {
	if h := e.host(); h != nil {
		return h.Plugins()
	}
	return nil
}

// PluginLogs returns the last lines domain's plugin wrote on this node
// while handling events, oldest first, each with its event's id
// (wasmscript.Host.Logs); none when no plugin ran here.
func (e *Events) PluginLogs(domain string) []hook.PluginLogLine {
	if h := e.host(); h != nil {
		return h.Logs(domain)
	}
	return nil
}

// LogDomains returns the domains whose plugins wrote lines on this
// node, and how many lines were written ever: a flusher that saw the
// same count last time has nothing new (wasmscript.Host.LogDomains).
func (e *Events) LogDomains() ([]string, uint64) {
	if h := e.host(); h != nil {
		return h.LogDomains()
	}
	return nil, 0
}

// DryRun runs d's plugin, a candidate (d.Module: an upload or a stored
// version not active), on evs without delivering or storing anything,
// judged with d's strictness as its deliveries would be
// (wasmscript.Host.DryRun, which says what is answered and how). The
// section must be provisioned with per_domain on. It is
// [Events.DryRunReport] on events only.
func (e *Events) DryRun(ctx context.Context, d Domain, evs []*hook.Event, stubs []hook.HTTPStub, liveHTTP bool) ([]hook.DryRunResult, error) {
	rep, err := e.DryRunReport(ctx, d, wasmscript.DryRunInput{Events: evs, Stubs: stubs, Live: liveHTTP})
	return rep.Results, err
}

// DryRunReport is [Events.DryRun] on in's events and then its sign-ups,
// each asked of the candidate's hookd_v1_on_signup with the state the
// events left (wasmscript.Host.DryRunReport): what a domain owner's dry
// run answers. The sign-ups are passed on as given; the caller checks
// and normalises them as a sign-up to the domain would be.
func (e *Events) DryRunReport(ctx context.Context, d Domain, in wasmscript.DryRunInput) (hook.DryRunReport, error) {
	l := e.live
	if l == nil || l.client == nil {
		return hook.DryRunReport{}, fmt.Errorf("[[domain]] id %q: [http_events] per_domain is off, so a domain plugin would receive nothing", d.ID)
	}
	if !d.IsPlugin() {
		return hook.DryRunReport{}, hook.Invalid("domain %q: a dry run needs a plugin (a module), not the script %q", d.ID, d.Script)
	}
	host, err := l.ensureHost(ctx)
	if err != nil {
		return hook.DryRunReport{}, err
	}
	strict := e.PerDomainStrict
	if d.Strict != nil {
		strict = *d.Strict
	}
	return host.DryRunReport(ctx, d.Spec(l.env.Resolve, strict), in)
}

// host returns the plugin host, nil before Provision or until a plugin
// was loaded.
func (e *Events) host() *wasmscript.Host {
	if e.live == nil {
		return nil
	}
	return e.live.host()
}

// Reload picks up changed plugin files (SIGHUP).
func (e *Events) Reload(ctx context.Context) error {
	if h := e.host(); h != nil {
		return h.Reload(ctx)
	}
	return nil
}

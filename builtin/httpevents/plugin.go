package httpevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// pluginScript is a domain's WebAssembly plugin in the role of its events
// script: its reply means what a script's reply means.
type pluginScript struct {
	domain string
	p      *wasmhost.Plugin
	strict bool
	log    *slog.Logger
}

var (
	_ hook.Handler      = (*pluginScript)(nil)
	_ hook.BatchHandler = (*pluginScript)(nil)
)

// Handle runs the plugin on ev and judges its answer like a script's.
func (s *pluginScript) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	out, err := s.p.Call(ctx, ev)
	s.forwardLogs(ctx, ev, out.Logs)
	res := hook.Result{Latency: out.Duration, Reply: out.Reply}
	if err != nil {
		res.Summary = "plugin failed"
		return res, fmt.Errorf("plugin %s: %w", s.p.Path(), err)
	}
	switch out.Status {
	case hostapi.StatusHandled:
	case hostapi.StatusFail:
		res.Summary = "plugin failed for good"
		return res, hook.Permanent(fmt.Errorf("plugin %s failed for good: %s", s.p.Path(), orDefault(out.Error, "no message")))
	default:
		res.Summary = "plugin failed"
		return res, fmt.Errorf("plugin %s failed (status %d): %s", s.p.Path(), out.Status, orDefault(out.Error, "no message"))
	}
	if len(out.Reply) == 0 {
		res.Summary = "nomessage"
		return res, nil
	}
	reply, perr := xmlmsg.Parse(out.Reply)
	switch {
	case perr == nil:
		res.Summary, res.Commands = reply.Summary(), reply.Document()
		return res, nil
	case s.strict:
		return res, fmt.Errorf("plugin %s replied but %w", s.p.Path(), perr)
	default:
		res.Summary = "reply not XMLMSG (not strict: ignored)"
		return res, nil
	}
}

// HandleBatch runs the plugin on each event in order; the batch fails at
// the first failure (and is retried whole, like a combined request).
func (s *pluginScript) HandleBatch(ctx context.Context, evs []*hook.Event) (hook.Result, error) {
	var (
		last hook.Result
		cmds [][]byte
	)
	for _, ev := range evs {
		res, err := s.Handle(ctx, ev)
		if err != nil {
			return res, err
		}
		if len(res.Commands) > 0 {
			cmds = append(cmds, res.Commands)
		}
		last = res
	}
	if len(cmds) > 1 {
		// One forward per command document would need one per event; the
		// command sink takes documents one at a time, so keep the last and
		// say so. Combined plugin replies are rare (a plugin is local).
		s.log.Warn("combined plugin call produced several XMLMSG documents; forwarding the last",
			slog.String("domain", s.domain), slog.Int("documents", len(cmds)))
	}
	return last, nil
}

func (s *pluginScript) forwardLogs(ctx context.Context, ev *hook.Event, lines []hostapi.LogLine) {
	for _, l := range lines {
		s.log.Log(ctx, l.Level, l.Text, slog.String("domain", s.domain), slog.String("source", l.Source),
			slog.String("event_id", ev.ID))
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// plugins owns the engine and the loaded plugins of one module.
type plugins struct {
	engine  *wasmhost.Engine
	loaded  []*wasmhost.Plugin
	log     *slog.Logger
	stop    chan struct{}
	stopped sync.WaitGroup
}

// load compiles and warms d's plugin (never on the event path).
func (ps *plugins) load(ctx context.Context, env hook.Env, d Domain, userAgent string) (*wasmhost.Plugin, error) {
	g, err := d.Grants(env.PrivateDir, userAgent)
	if err != nil {
		return nil, err
	}
	p, err := ps.engine.Load(ctx, env.Resolve(d.Script), d.Limits(), g)
	if err != nil {
		return nil, err
	}
	ps.loaded = append(ps.loaded, p)
	return p, nil
}

// Limits returns the plugin's limits (zero fields: the engine's defaults).
func (d *Domain) Limits() wasmhost.Limits { return d.Plugin.limits() }

// Grants builds the plugin's capabilities from its settings: its config,
// the keys it may sign with (loaded from privateDir), its HTTP allow-list.
func (d *Domain) Grants(privateDir, userAgent string) (hostapi.Grants, error) {
	g := hostapi.Grants{}
	if d.Config != nil {
		b, err := json.Marshal(d.Config)
		if err != nil {
			return g, fmt.Errorf("config: %w", err)
		}
		g.Config = b
	}
	if len(d.Plugin.Keys) > 0 {
		keys := map[string]*jwtsign.Key{}
		for _, name := range d.Plugin.Keys {
			k, err := jwtsign.LoadKey(privateDir, name, "")
			if err != nil {
				return g, fmt.Errorf("plugin.keys: %w", err)
			}
			keys[name] = k
		}
		g.Sign, g.Keys = wasmhost.KeySigner(keys)
	}
	if len(d.Plugin.HTTPAllow) > 0 {
		allow, err := outbound.ParsePrefixes(d.Plugin.AllowPrivate)
		if err != nil {
			return g, fmt.Errorf("plugin.allow_private: %w", err)
		}
		h, err := hostapi.NewHTTP(hostapi.HTTPOptions{Allow: d.Plugin.HTTPAllow, AllowPrivate: allow,
			Timeout: time.Duration(d.Plugin.HTTPTimeout), MaxRequests: d.Plugin.HTTPMaxRequests,
			MaxResponse: d.Plugin.HTTPMaxResponse, UserAgent: userAgent})
		if err != nil {
			return g, fmt.Errorf("plugin.http_allow: %w", err)
		}
		g.HTTP = h
	}
	return g, nil
}

// watch reloads changed plugin files every interval until close.
func (ps *plugins) watch(interval time.Duration) {
	if interval <= 0 || len(ps.loaded) == 0 {
		return
	}
	ps.stop = make(chan struct{})
	ps.stopped.Add(1)
	go func() {
		defer ps.stopped.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ps.stop:
				return
			case <-t.C:
				_ = ps.reload(context.Background())
			}
		}
	}()
}

// reload re-reads every plugin file; a changed, valid file replaces the
// running version atomically, a broken one is refused and logged.
func (ps *plugins) reload(ctx context.Context) error {
	var errs []error
	for _, p := range ps.loaded {
		changed, err := p.Reload(ctx)
		switch {
		case err != nil:
			ps.log.Error("plugin reload refused; the running version keeps serving",
				slog.String("path", p.Path()), slog.Any("error", err))
			errs = append(errs, fmt.Errorf("reload %s: %w", p.Path(), err))
		case changed:
			ps.log.Info("plugin reloaded", slog.String("path", p.Path()), slog.String("sha256", p.SHA256()))
		}
	}
	return errors.Join(errs...)
}

func (ps *plugins) close() error {
	if ps.stop != nil {
		close(ps.stop)
		ps.stopped.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range ps.loaded {
		errs = append(errs, p.Close(ctx))
	}
	if ps.engine != nil {
		errs = append(errs, ps.engine.Close(ctx))
	}
	return errors.Join(errs...)
}

package admin

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// Backend is what the admin page shows and steers; *hookrt.Runtime
// implements it. The delivery log, the targets, the plugins and the
// config are read through [ops] (the same room the API and the portal
// use, scoped to the operator); the target and reload actions are the
// backend's own.
//
// Every method may be called from many goroutines at once. Errors that
// wrap [hook.ErrNotFound] become a 404 page, [hook.ErrConflict] a message
// on the page the action came from (its text is shown), and
// [hook.ErrUnavailable] a 503 page; any other error is logged and shown as
// a generic 500 page.
type Backend interface {
	ops.Backend
	// DisableTarget, PauseTarget, EnableTarget and ResumeTarget change a
	// target's state on every node.
	DisableTarget(ctx context.Context, name, reason string) error
	PauseTarget(ctx context.Context, name, reason string) error
	EnableTarget(ctx context.Context, name string) error
	ResumeTarget(ctx context.Context, name string) error
	// Reload asks the plugins to pick up changed files now.
	Reload(ctx context.Context) error
}

// StatsSource is a Backend that also keeps the recent outcomes for the
// chart; New uses it when [Options.Stats] is nil.
type StatsSource interface {
	Stats() ops.Stats
}

// Options configure the handler returned by [New]. The zero value is
// usable (on loopback only: it needs no login).
type Options struct {
	// Token is the API's bearer token, which an operator pastes into the
	// login form. Empty means no login, which is only safe when the API
	// listens on loopback (the config refuses anything else). Defaults to
	// "".
	Token string
	// Logger receives the operators' actions, failed logins and the errors
	// answered with 500; never the token. Defaults to discarding.
	Logger *slog.Logger
	// Config returns the effective config with its secrets redacted, for
	// the config page (hookrt.Config.Redacted). nil shows none. Defaults
	// to nil.
	Config func() ([]byte, error)
	// Stats returns this node's recent delivery outcomes for the chart
	// (an ops.Recorder's Snapshot). nil: the Backend's (see
	// [StatsSource]); else the chart stays empty. Defaults to nil.
	Stats func() ops.Stats
	// SessionTTL is how long a login lasts. Defaults to 12h.
	SessionTTL time.Duration
	// MaxSessions bounds the sessions kept in memory; the one closest to
	// its end goes first when a login needs room. Defaults to 1000.
	MaxSessions int
	// Now is the clock sessions expire by; tests step it. Defaults to
	// time.Now.
	Now func() time.Time
}

// Defaults of [Options].
const (
	DefaultSessionTTL  = webui.DefaultSessionTTL
	DefaultMaxSessions = webui.DefaultMaxSessions
)

// server is the http.Handler New returns.
type server struct {
	b   Backend
	log *slog.Logger
	// tokenHash is the SHA-256 of Options.Token, nil when there is no
	// login. Comparing hashes keeps the comparison constant-time in the
	// length too.
	tokenHash []byte
	// ops is the operations room over b.
	ops *ops.Ops
	// site is what the admin page shares with the portal: sessions, CSRF,
	// the origin check, templates and security headers.
	site *webui.Site
	// domains is b as a DomainBackend, nil when it is not one: then the
	// Domains pages are not served.
	domains DomainBackend
}

// New returns the admin page's handler, serving b under /admin/. Mount it
// with the pattern "/admin/" (it routes the full path itself):
//
//	mux.Handle("/admin/", admin.New(rt, admin.Options{Token: token, Logger: log}))
//
// # Notes
//
//   - New panics if b is nil, or if its embedded templates do not parse:
//     both are programming errors.
//   - Sessions live in this handler's memory: a restart, or another node,
//     asks for the token again.
func New(b Backend, o Options) http.Handler {
	if b == nil {
		panic("admin: New needs a Backend")
	}
	stats := o.Stats
	if stats == nil {
		stats = statsOf(b)
	}
	s := &server{b: b, log: o.Logger, ops: ops.New(b, ops.Options{Stats: stats, Config: o.Config})}
	s.domains, _ = b.(DomainBackend)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.Token != "" {
		h := sha256.Sum256([]byte(o.Token))
		s.tokenHash = h[:]
	}
	s.site = webui.NewSite(webui.Options{Prefix: "/admin/", Cookie: cookieName, Name: "admin", Logger: s.log,
		Assets: templates, Pages: pageNames, Menu: s.menu(), Funcs: funcs, SessionTTL: o.SessionTTL, MaxSessions: o.MaxSessions, Now: o.Now,
		Open: o.Token == ""})
	s.routes()
	return s
}

// cookieName is the session cookie. It is scoped to /admin/, so the API
// never sees it.
const cookieName = "hookd_admin"

// routes registers every page, action and asset: the delivery log's
// pages are the ones the portal shows too (webui.Deliveries).
func (s *server) routes() {
	m := s.site
	views := webui.NewDeliveries(m, webui.DeliveriesOptions{Scope: s.scope, Summary: s.summary, Confirm: s.confirm})
	routes := append(m.Common(s.checkToken, "That is not the API token (server.token_file).", static), views.Routes()...)
	routes = append(routes,
		webui.Route{Pattern: "GET /admin/targets", Handler: m.Page(s.handleTargets)},
		webui.Route{Pattern: "POST /admin/targets/action", Handler: m.Action(s.handleTargetAction)},
		webui.Route{Pattern: "GET /admin/plugins", Handler: m.Page(s.handlePlugins)},
		webui.Route{Pattern: "POST /admin/plugins/reload", Handler: m.Action(s.handleReload)},
		webui.Route{Pattern: "GET /admin/config", Handler: m.Page(s.handleConfig)},
		webui.Route{Pattern: "GET /admin/stats.json", Handler: m.API(s.handleStats)})
	if s.domains != nil {
		routes = append(routes,
			webui.Route{Pattern: "GET /admin/domains", Handler: m.Page(s.handleDomains)},
			webui.Route{Pattern: "GET /admin/domains/{id}", Handler: m.Page(s.handleDomain)},
			webui.Route{Pattern: "POST /admin/domains/{id}/tokens", Handler: m.Action(s.handleCreateToken)},
			webui.Route{Pattern: "POST /admin/domains/{id}/tokens/{token}/revoke", Handler: m.Action(s.handleRevokeToken)},
			webui.Route{Pattern: "POST /admin/domains/{id}/delete", Handler: m.Action(s.handleDeleteDomain)})
	}
	routes = append(routes, webui.Route{Pattern: "/admin/", Handler: m.NotFound})
	for _, rt := range routes {
		m.HandleFunc(rt.Pattern, rt.Handler)
	}
}

// menu is the admin page's menu: the delivery-log pages, with the
// targets between the dead letters and the sessions, and its own; the
// domains when the backend keeps them.
func (s *server) menu() []webui.MenuItem {
	m := []webui.MenuItem{webui.MenuDeliveries, webui.MenuDead, {Path: "targets", Nav: "targets", Label: "Targets"},
		webui.MenuSessions, {Path: "plugins", Nav: "plugins", Label: "Plugins"}}
	if s.domains != nil {
		m = append(m, webui.MenuItem{Path: "domains", Nav: "domains", Label: "Domains"})
	}
	return append(m, webui.MenuItem{Path: "config", Nav: "config", Label: "Config"})
}

// scope is the operations room as the session's principal sees it: the
// operator's, everything.
func (s *server) scope(se *webui.Session) ops.Scope { return s.ops.Scope(se.Who) }

// ServeHTTP serves the admin page with the security headers of
// [webui.Site.ServeHTTP].
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.site.ServeHTTP(w, r) }

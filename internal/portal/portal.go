package portal

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// Backend is what the portal shows and changes; *hookrt.Runtime
// implements it. The delivery log is read through [ops] (the same room
// and scope the API uses); the domain's settings, plugin, logs and audit
// through the runtime's domain methods, each given the session's
// principal, so that the runtime, not the portal, decides what a domain
// token may reach.
//
// Errors wrapping [hook.ErrNotFound] become a 404 page, [hook.ErrInvalid]
// and [hook.ErrConflict] a message on the page the action came from,
// [hook.ErrUnavailable] a 503 page.
type Backend interface {
	ops.Backend
	ops.OwnerBackend
}

// Options configure the handler returned by [New]. The zero value is
// usable.
type Options struct {
	// Logger receives the owners' actions, failed logins and the errors
	// answered with 500; never a token. Defaults to discarding.
	Logger *slog.Logger
	// MaxPluginSize is the largest plugin an owner may upload, in bytes:
	// the runtime's limit ([domains] max_plugin_size), so that a larger
	// upload is refused before it is read whole. Defaults to
	// [DefaultMaxPluginSize].
	MaxPluginSize int64
	// SessionTTL is how long a login lasts (defaults to 12h); MaxSessions
	// bounds the sessions kept in memory (defaults to 1000); Now is the
	// clock they expire by (tests step it).
	SessionTTL  time.Duration
	MaxSessions int
	Now         func() time.Time
}

// DefaultMaxPluginSize is [Options.MaxPluginSize]'s default.
const DefaultMaxPluginSize = 8 << 20

// uploadOverhead is what a multipart upload adds to the module: the
// settings and dry-run fields, boundaries and headers.
const uploadOverhead = 256 << 10

// server is the http.Handler New returns.
type server struct {
	b         Backend
	ops       *ops.Ops
	log       *slog.Logger
	maxUpload int64
	site      *webui.Site
	// routes are every route the portal serves, in the order registered:
	// the isolation test walks them, so a route added here without an
	// entry there fails it.
	routes []route
}

// route is one pattern of the portal and its handler.
type route struct {
	pattern string
	handler http.HandlerFunc
}

//go:embed assets
var assets embed.FS

// templates are the portal's templates; static its own static files.
var templates, static = webui.SiteAssets(assets)

// pageNames are the pages the portal renders inside the shared frame: its
// own templates of assets/, else webui's (sessions, delivery, error).
var pageNames = []string{"login", "error", "deliveries", "delivery", "sessions", "plugin", "dryrun", "logs", "settings"}

// menu is the portal's menu: the delivery-log pages, then the domain's
// plugin and settings.
var menu = []webui.MenuItem{webui.MenuDeliveries, webui.MenuDead, webui.MenuSessions,
	{Path: "plugin", Nav: "plugin", Label: "Plugin"}, {Path: "logs", Nav: "logs", Label: "Plugin logs"},
	{Path: "settings", Nav: "settings", Label: "Settings"}}

// cookieName is the portal's session cookie, scoped to /portal/: the
// admin page's cookie and this one never meet.
const cookieName = "hookd_portal"

// New returns the portal's handler, serving b under /portal/. Mount it
// with the pattern "/portal/" (it routes the full path itself):
//
//	mux.Handle("/portal/", portal.New(rt, portal.Options{Logger: log}))
//
// A domain's owner logs in with one of the domain's tokens (hookd domains
// token create); the session re-checks the token at every request, so
// revoking it (or its expiry) logs its sessions out at once. New panics
// if b is nil.
func New(b Backend, o Options) http.Handler {
	if b == nil {
		panic("portal: New needs a Backend")
	}
	s := &server{b: b, ops: ops.New(b, ops.Options{}), log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	max := o.MaxPluginSize
	if max <= 0 {
		max = DefaultMaxPluginSize
	}
	s.maxUpload = max + uploadOverhead
	s.site = webui.NewSite(webui.Options{Prefix: "/portal/", Cookie: cookieName, Name: "portal", Logger: s.log,
		Assets: templates, Pages: pageNames, Menu: menu, SessionTTL: o.SessionTTL, MaxSessions: o.MaxSessions, Now: o.Now,
		Check: s.authenticate})
	s.register()
	return s
}

// authenticate judges a domain token. Only a domain's token logs in: the
// operator's token is not one (the operator has the admin page), and is
// answered as a wrong token.
func (s *server) authenticate(ctx context.Context, token string) (hook.Principal, error) {
	if token == "" {
		return hook.Principal{}, hook.ErrNotFound
	}
	who, err := s.b.AuthenticateDomainToken(ctx, token)
	if err == nil && who.IsOperator() {
		err = hook.ErrNotFound
	}
	return who, err
}

// register lists every page, action and asset.
func (s *server) register() {
	m := s.site
	views := webui.NewDeliveries(m, webui.DeliveriesOptions{Scope: s.scope, Scoped: true, Summary: s.summary})
	shared := append(m.Common(s.authenticate, "That is not a token of any domain, or it was revoked or has expired.", static),
		views.Routes()...)
	for _, r := range shared {
		s.routes = append(s.routes, route{r.Pattern, r.Handler})
	}
	s.routes = append(s.routes,
		route{"GET /portal/plugin", m.Page(s.handlePlugin)},
		route{"POST /portal/plugin/upload", m.Upload(s.maxUpload, s.handleUpload)},
		route{"POST /portal/plugin/test", m.Upload(s.maxUpload, s.handleDryRun)},
		route{"POST /portal/plugin/versions/{version}/activate", m.Action(s.handleActivate)},
		route{"POST /portal/plugin/versions/{version}/delete", m.Action(s.handleDeleteVersion)},
		route{"GET /portal/logs", m.Page(s.handleLogs)},
		route{"GET /portal/settings", m.Page(s.handleSettings)},
		route{"POST /portal/settings", m.Action(s.handlePutSettings)},
		route{"/portal/", m.NotFound})
	for _, r := range s.routes {
		m.HandleFunc(r.pattern, r.handler)
	}
}

// ServeHTTP serves the portal with the security headers of
// [webui.Site.ServeHTTP].
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.site.ServeHTTP(w, r) }

// scope is the delivery log as the session's domain sees it.
func (s *server) scope(se *webui.Session) ops.Scope { return s.ops.Scope(se.Who) }

// done ends an action as [webui.Site.Done] does, except that a resource
// the session's domain does not have (another domain's delivery, a
// version number it has not stored) is a 404 page, exactly as for an id
// that exists nowhere: the answer must not tell the two apart.
func (s *server) done(w http.ResponseWriter, r *http.Request, se *webui.Session, err error, ok, fallback string) {
	if errors.Is(err, hook.ErrNotFound) {
		s.site.BackendError(w, r, err)
		return
	}
	s.site.Done(w, r, se, err, ok, fallback)
}

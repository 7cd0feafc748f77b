package admin

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/hookrt/hookd/hook"
	hookrt "github.com/hookrt/hookd/runtime"
)

// Backend is what the admin page shows and steers; *hookrt.Runtime
// implements it.
//
// Every method may be called from many goroutines at once. Errors that
// wrap [hook.ErrNotFound] become a 404 page, [hook.ErrConflict] a message
// on the page the action came from (its text is shown), and
// [hook.ErrUnavailable] a 503 page; any other error is logged and shown as
// a generic 500 page.
type Backend interface {
	// ListDeliveries returns deliveries, newest first, without Event and History.
	ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error)
	// Delivery returns one delivery with its Event and History filled.
	Delivery(ctx context.Context, id int64) (*hook.Delivery, error)
	// Retry replays one delivery; Discard stops it.
	Retry(ctx context.Context, id int64) error
	Discard(ctx context.Context, id int64) error
	// RetryMatching replays the deliveries a filter selects (State, Target,
	// Since) and returns how many.
	RetryMatching(ctx context.Context, f hook.DeliveryFilter) (int, error)
	// Retry and RetryMatching refuse a disabled or paused target with an
	// error matching hookrt.ErrReplayRefused; the page then asks the
	// operator to confirm, and these replay anyway.
	RetryForced(ctx context.Context, id int64) error
	RetryMatchingForced(ctx context.Context, f hook.DeliveryFilter) (int, error)
	// SessionEvents returns a session's record.
	SessionEvents(ctx context.Context, sessionID string) ([]hook.SessionEvent, error)
	// TargetStatuses returns every target's state, breaker and load.
	TargetStatuses(ctx context.Context) ([]hook.TargetStatus, error)
	// DisableTarget, PauseTarget, EnableTarget and ResumeTarget change a
	// target's state on every node.
	DisableTarget(ctx context.Context, name, reason string) error
	PauseTarget(ctx context.Context, name, reason string) error
	EnableTarget(ctx context.Context, name string) error
	ResumeTarget(ctx context.Context, name string) error
	// Reload asks the plugins to pick up changed files now.
	Reload(ctx context.Context) error
	// Plugins returns where every WASM plugin stands.
	Plugins() []hook.PluginStatus
	// Stats returns the delivery outcomes of the last minutes, per second.
	Stats() hookrt.Stats
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
	DefaultSessionTTL  = 12 * time.Hour
	DefaultMaxSessions = 1000
)

// maxForm bounds the body of a POST: a form of a few short fields.
const maxForm = 16 << 10

// server is the http.Handler New returns.
type server struct {
	b   Backend
	log *slog.Logger
	// tokenHash is the SHA-256 of Options.Token, nil when there is no
	// login. Comparing hashes keeps the comparison constant-time in the
	// length too.
	tokenHash []byte
	config    func() ([]byte, error)
	sessions  *sessions
	pages     *pages
	mux       *http.ServeMux
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
	s := &server{b: b, log: o.Logger, config: o.Config, pages: mustParsePages(), mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.Token != "" {
		h := sha256.Sum256([]byte(o.Token))
		s.tokenHash = h[:]
	}
	s.sessions = newSessions(o.SessionTTL, o.MaxSessions, o.Now)
	s.routes()
	return s
}

// routes registers every page, action and asset.
func (s *server) routes() {
	m := s.mux
	m.HandleFunc("GET /admin/login", s.handleLoginForm)
	m.HandleFunc("POST /admin/login", s.handleLogin)
	m.HandleFunc("POST /admin/logout", s.action(s.handleLogout))
	m.HandleFunc("GET /admin/static/{file}", s.handleStatic)

	m.HandleFunc("GET /admin/{$}", s.page(s.handleDeliveries))
	m.HandleFunc("GET /admin/dead", s.page(s.handleDead))
	m.HandleFunc("GET /admin/deliveries/{id}", s.page(s.handleDelivery))
	m.HandleFunc("POST /admin/deliveries/{id}/retry", s.action(s.handleRetry))
	m.HandleFunc("POST /admin/deliveries/{id}/discard", s.action(s.handleDiscard))
	m.HandleFunc("POST /admin/deliveries/replay", s.action(s.handleReplay))
	m.HandleFunc("GET /admin/targets", s.page(s.handleTargets))
	m.HandleFunc("POST /admin/targets/action", s.action(s.handleTargetAction))
	m.HandleFunc("GET /admin/sessions", s.page(s.handleSessions))
	m.HandleFunc("GET /admin/plugins", s.page(s.handlePlugins))
	m.HandleFunc("POST /admin/plugins/reload", s.action(s.handleReload))
	m.HandleFunc("GET /admin/config", s.page(s.handleConfig))
	m.HandleFunc("GET /admin/stats.json", s.api(s.handleStats))
	m.HandleFunc("/admin/", s.handleNotFound)
}

// ServeHTTP sets the security headers every admin answer carries, and
// routes. A panic in a page is logged and answered with a 500 page.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "admin page panicked", "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			s.errorPage(w, r, http.StatusInternalServerError, "Internal error; see the server log.")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows the page's own scripts, styles, images and
// JSON, and nothing else: no inline script or style, no framing, no form
// posted elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// handleNotFound answers the paths under /admin/ that are no page.
func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "No such page: "+cut(r.URL.Path, 80))
}

package webui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/authguard"
)

// MaxForm bounds the body of a POST form: a few short fields.
const MaxForm = 16 << 10

// Options describe one [Site].
type Options struct {
	// Prefix is the path the site is mounted at, with its slashes:
	// "/admin/". Every page, the cookie's path and every redirect stay
	// under it.
	Prefix string
	// Cookie is the session cookie's name.
	Cookie string
	// Name prefixes the site's log messages ("admin", "portal").
	Name string
	// Logger receives logins, refused requests and backend errors; never
	// a token. Defaults to discarding.
	Logger *slog.Logger
	// Assets holds the site's templates: layout.html, which defines the
	// site's parts of the frame both sites share ("head", "who", "foot";
	// a layout.html with a body of its own replaces the frame), and one
	// file per entry of Pages, each defining "content". A page both sites
	// share (webui's templates/pages: sessions, delivery, error, login) is
	// parsed first: the site's file of that name then defines only the
	// parts the shared page leaves to it (the login form's words), or
	// replaces it whole. Pages must include "login" and "error".
	Assets fs.FS
	Pages  []string
	// Menu is the site's menu, in the frame's header.
	Menu []MenuItem
	// Funcs are the site's own template helpers, beside [Funcs].
	Funcs template.FuncMap
	// SessionTTL, MaxSessions and Now configure the sessions
	// ([NewSessions]).
	SessionTTL  time.Duration
	MaxSessions int
	Now         func() time.Time
	// Open makes a site without a login: a visitor gets an operator
	// session on the spot (the admin page when the API has no token,
	// which the config allows on loopback only). Actions still need the
	// session's CSRF token.
	Open bool
	// Check, when set, re-checks a session's credential at every request:
	// an error matching [hook.ErrNotFound] ends the session (the portal's
	// domain token was revoked or expired), any other error is answered
	// as a backend error.
	Check func(ctx context.Context, credential string) (hook.Principal, error)
}

// Handler is a page or an action, given the request's live session.
type Handler func(w http.ResponseWriter, r *http.Request, se *Session)

// Site is one server-rendered page of hookd: its routes, sessions and
// templates, and the checks every request passes.
type Site struct {
	prefix, cookie, name string
	log                  *slog.Logger
	// Sessions are the site's logins.
	Sessions *Sessions
	pages    map[string]*template.Template
	menu     []MenuItem
	open     bool
	check    func(ctx context.Context, credential string) (hook.Principal, error)
	mux      *http.ServeMux
}

// NewSite returns a site with o's settings and no routes. It panics when
// the embedded templates do not parse: they are part of the binary, so
// that is a programming error.
func NewSite(o Options) *Site {
	s := &Site{prefix: o.Prefix, cookie: o.Cookie, name: o.Name, log: o.Logger, open: o.Open, check: o.Check,
		Sessions: NewSessions(o.SessionTTL, o.MaxSessions, o.Now), mux: http.NewServeMux(),
		pages: map[string]*template.Template{}, menu: o.Menu}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	funcs := maps.Clone(Funcs)
	maps.Copy(funcs, o.Funcs)
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/shared.html"))
	template.Must(layout.ParseFS(o.Assets, "layout.html"))
	for _, name := range o.Pages {
		t := template.Must(layout.Clone())
		// The shared page, then the site's file: that may be the whole page,
		// or define only the parts the shared page leaves to the site.
		if _, err := fs.Stat(templates, "templates/pages/"+name+".html"); err == nil {
			t = template.Must(t.ParseFS(templates, "templates/pages/"+name+".html"))
		}
		if _, err := fs.Stat(o.Assets, name+".html"); err == nil {
			t = template.Must(t.ParseFS(o.Assets, name+".html"))
		}
		s.pages[name] = t
	}
	return s
}

// Prefix is the path the site is mounted at.
func (s *Site) Prefix() string { return s.prefix }

// Log is the site's logger.
func (s *Site) Log() *slog.Logger { return s.log }

// Open reports whether the site needs no login.
func (s *Site) Open() bool { return s.open }

// Handle registers h for pattern on the site's mux.
func (s *Site) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc registers h for pattern on the site's mux.
func (s *Site) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Mux returns the site's routes (tests list them).
func (s *Site) Mux() *http.ServeMux { return s.mux }

// ServeHTTP sets the security headers every answer carries, and routes.
// A panic in a page is logged and answered with a 500 page.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
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
			s.log.ErrorContext(r.Context(), s.name+" page panicked", "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			s.ErrorPage(w, r, http.StatusInternalServerError, "Internal error; see the server log.")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// ContentSecurityPolicy allows the page's own scripts, styles, images and
// JSON, and nothing else: no inline script or style, no framing, no form
// posted elsewhere.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// errSessionEnded is what session answers when the site's Check refused
// the session's credential: the session is gone.
var errSessionEnded = errors.New("session ended")

// session returns the request's live session and its id, or nil. With a
// Check, the session's credential is checked again: refused, the session
// ends (nil, no error); the check failing otherwise is an error.
func (s *Site) session(r *http.Request) (string, *Session, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return "", nil, nil
	}
	se := s.Sessions.Get(c.Value)
	if se == nil || s.check == nil || se.credential == "" {
		return c.Value, se, nil
	}
	who, err := s.check(r.Context(), se.credential)
	switch {
	case errors.Is(err, hook.ErrNotFound) || (err == nil && who != se.Who):
		s.Sessions.Remove(c.Value)
		s.log.InfoContext(r.Context(), s.name+": session ended: its token is no longer valid", "who", se.Who.String(),
			"remote", r.RemoteAddr)
		return c.Value, nil, nil
	case err != nil:
		return c.Value, nil, err
	}
	return c.Value, se, nil
}

// SessionOf returns the request's live session, or nil (also when it
// cannot be checked now).
func (s *Site) SessionOf(r *http.Request) *Session {
	_, se, _ := s.session(r)
	return se
}

// SetCookie hands the browser the session id: HttpOnly (no script reads
// it), SameSite=Strict (no other site's page sends it), scoped to the
// site's prefix, Secure when the browser reached the page over TLS, and
// ending with the session.
func (s *Site) SetCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: id, Path: s.prefix,
		MaxAge:   int(s.Sessions.TTL() / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ViaTLS(r),
	})
}

// ClearCookie tells the browser to forget the session.
func (s *Site) ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: "", Path: s.prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ViaTLS(r),
	})
}

// Page wraps a GET page: it needs a live session, and without one it
// sends the browser to the login form. On an open site a visitor gets a
// session on the spot.
func (s *Site) Page(h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, se, err := s.session(r)
		if err != nil {
			s.BackendError(w, r, err)
			return
		}
		if se == nil {
			if !s.open {
				http.Redirect(w, r, s.prefix+"login", http.StatusSeeOther)
				return
			}
			var id string
			id, se = s.Sessions.Create(hook.Operator(), "")
			s.SetCookie(w, r, id)
		}
		h(w, r, se)
	}
}

// API wraps a JSON endpoint of the page's script: it needs a live session
// and answers 401 without one.
func (s *Site) API(h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, se, err := s.session(r)
		if se == nil || err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"log in at ` + s.prefix + `login"}` + "\n"))
			return
		}
		h(w, r, se)
	}
}

// Action wraps a state-changing POST: it must come from a page of this
// origin, with a live session and its CSRF token in the form field
// "csrf". The form is at most [MaxForm] bytes.
func (s *Site) Action(h Handler) http.HandlerFunc {
	return s.post(func(w http.ResponseWriter, r *http.Request) bool { return s.ParseForm(w, r) }, h)
}

// Upload wraps a state-changing POST of a multipart form (a file and a
// few fields) of at most max bytes, with the checks of [Site.Action].
func (s *Site) Upload(max int64, h Handler) http.HandlerFunc {
	return s.post(func(w http.ResponseWriter, r *http.Request) bool { return s.parseMultipart(w, r, max) }, h)
}

func (s *Site) post(parse func(http.ResponseWriter, *http.Request) bool, h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := SameOrigin(r); err != nil {
			s.log.WarnContext(r.Context(), s.name+": cross-origin request refused", "path", r.URL.Path,
				"remote", r.RemoteAddr, "error", err)
			s.ErrorPage(w, r, http.StatusForbidden, "Refused: "+err.Error()+".")
			return
		}
		if !parse(w, r) {
			return
		}
		_, se, err := s.session(r)
		if err != nil {
			s.BackendError(w, r, err)
			return
		}
		if se == nil {
			s.ErrorPage(w, r, http.StatusForbidden, "Your session has ended; log in again (or reload the page).")
			return
		}
		if !se.CheckCSRF(r.PostFormValue("csrf")) {
			s.log.WarnContext(r.Context(), s.name+": request without a valid CSRF token refused", "path", r.URL.Path,
				"remote", r.RemoteAddr)
			s.ErrorPage(w, r, http.StatusForbidden, "Refused: the form's CSRF token is missing or not this session's; reload the page and try again.")
			return
		}
		h(w, r, se)
	}
}

// ParseForm reads a POST form of at most [MaxForm] bytes, answering 413
// or 400 when it cannot.
func (s *Site) ParseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.ErrorPage(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d bytes.", MaxForm))
		} else {
			s.ErrorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+Cut(err.Error(), 200))
		}
		return false
	}
	return true
}

// parseMultipart reads a multipart form of at most max bytes, kept in
// memory (max is small: a plugin and its settings).
func (s *Site) parseMultipart(w http.ResponseWriter, r *http.Request, max int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	err := r.ParseMultipartForm(max)
	if errors.Is(err, http.ErrNotMultipart) {
		err = r.ParseForm()
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.ErrorPage(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The upload is larger than %s; a plugin may be at most that.", Bytes(max)))
		} else {
			s.ErrorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+Cut(err.Error(), 200))
		}
		return false
	}
	return true
}

// LoginForm serves the login form; logged-in visitors, and everyone on an
// open site, go to the site's home.
func (s *Site) LoginForm(w http.ResponseWriter, r *http.Request) {
	if se := s.SessionOf(r); se != nil || s.open {
		http.Redirect(w, r, s.prefix, http.StatusSeeOther)
		return
	}
	s.Render(w, r, http.StatusOK, "login", View{Title: "Log in"})
}

// Login returns the handler of the login form's POST: check judges the
// pasted token (an error matching [hook.ErrNotFound] means a wrong one,
// answered with wrong; any other is a backend error). An address that
// keeps pasting wrong tokens must wait ([authguard]). The token is never
// logged nor echoed back. A login starts a fresh session.
func (s *Site) Login(check func(ctx context.Context, token string) (hook.Principal, error), wrong string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.open {
			http.Redirect(w, r, s.prefix, http.StatusSeeOther)
			return
		}
		if err := SameOrigin(r); err != nil {
			s.ErrorPage(w, r, http.StatusForbidden, "Refused: "+err.Error()+".")
			return
		}
		if !s.ParseForm(w, r) {
			return
		}
		guard := s.Sessions.Guard
		if wait := guard.Wait(r); wait > 0 {
			secs := authguard.RetryAfter(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.Render(w, r, http.StatusTooManyRequests, "login", View{Title: "Log in",
				Flash: &Flash{Text: fmt.Sprintf("Too many wrong tokens from your address: try again in %d s.", secs), Error: true}})
			return
		}
		token := strings.TrimSpace(r.PostForm.Get("token"))
		who, err := check(r.Context(), token)
		if errors.Is(err, hook.ErrNotFound) {
			wait := guard.Wrong(r)
			s.log.WarnContext(r.Context(), s.name+": login with a wrong token", "remote", r.RemoteAddr, "wait", wait)
			s.Render(w, r, http.StatusUnauthorized, "login", View{Title: "Log in", Flash: &Flash{Text: wrong, Error: true}})
			return
		}
		if err != nil {
			s.BackendError(w, r, err)
			return
		}
		guard.Right(r)
		if c, err := r.Cookie(s.cookie); err == nil {
			s.Sessions.Remove(c.Value) // a fresh id at every login
		}
		cred := ""
		if s.check != nil {
			cred = token
		}
		id, _ := s.Sessions.Create(who, cred)
		s.SetCookie(w, r, id)
		s.log.InfoContext(r.Context(), s.name+": logged in", "who", who.String(), "remote", r.RemoteAddr)
		http.Redirect(w, r, s.prefix, http.StatusSeeOther)
	}
}

// Logout ends the session (an Action).
func (s *Site) Logout(w http.ResponseWriter, r *http.Request, se *Session) {
	if c, err := r.Cookie(s.cookie); err == nil {
		s.Sessions.Remove(c.Value)
	}
	s.ClearCookie(w, r)
	s.log.InfoContext(r.Context(), s.name+": logged out", "who", se.Who.String(), "remote", r.RemoteAddr)
	http.Redirect(w, r, s.prefix+"login", http.StatusSeeOther)
}

// View is what every page template gets: the layout's parts and the
// page's own Data.
type View struct {
	Title string
	// Nav names the menu entry of the page ("deliveries", "dead", …).
	Nav string
	// CSRF is the session's token, for the forms' hidden field; "" hides
	// the menu (login and error pages without a session).
	CSRF string
	// Logout shows the log-out button: there is a login.
	Logout bool
	// Who is the session's principal (the portal names the domain).
	Who   hook.Principal
	Flash *Flash
	// Self is the page's own path and query: where its actions come back.
	Self string
	// Base is the site's prefix ("/admin/"), for the links of the
	// templates both sites share.
	Base string
	// Site is the site's name ("admin", "portal") and Menu its menu, for
	// the frame; Render sets both.
	Site string
	Menu []MenuItem
	Data any
}

// MenuItem is an entry of a site's menu: a page under the prefix, and the
// View.Nav that marks it current.
type MenuItem struct{ Path, Nav, Label string }

// NewView starts the view of a page for session se, taking its flash.
func (s *Site) NewView(r *http.Request, se *Session, title, nav string) View {
	return View{Title: title, Nav: nav, CSRF: se.CSRF, Logout: !s.open, Who: se.Who,
		Flash: s.Sessions.TakeFlash(se), Self: r.URL.RequestURI(), Base: s.prefix}
}

// Render writes the page name with v; a template error is logged and
// answered with a plain 500 (the page is rendered to a buffer first, so
// nothing half-written goes out).
func (s *Site) Render(w http.ResponseWriter, r *http.Request, status int, name string, v View) {
	var buf bytes.Buffer
	if v.Base == "" {
		v.Base = s.prefix
	}
	v.Site, v.Menu = s.name, s.menu
	t := s.pages[name]
	if t == nil {
		panic(fmt.Sprintf("webui: no page %q", name))
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.ErrorContext(r.Context(), s.name+": rendering a page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorPage answers status with a page saying msg.
func (s *Site) ErrorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := View{Title: fmt.Sprintf("%d %s", status, http.StatusText(status)), Data: msg, Base: s.prefix}
	if c, err := r.Cookie(s.cookie); err == nil {
		if se := s.Sessions.Get(c.Value); se != nil {
			v.CSRF, v.Logout, v.Who = se.CSRF, !s.open, se.Who
		}
	}
	s.Render(w, r, status, "error", v)
}

// NotFound answers the paths under the prefix that are no page.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request) {
	s.ErrorPage(w, r, http.StatusNotFound, "No such page: "+Cut(r.URL.Path, 80))
}

// BackendError answers an error of the backend met while rendering a
// page: not found 404, unavailable 503, others 500 (logged).
func (s *Site) BackendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, hook.ErrNotFound):
		s.ErrorPage(w, r, http.StatusNotFound, Cut(err.Error(), 200))
	case errors.Is(err, hook.ErrInvalid):
		s.ErrorPage(w, r, http.StatusBadRequest, Cut(err.Error(), 500))
	case errors.Is(err, hook.ErrUnavailable):
		s.log.WarnContext(r.Context(), s.name+": store unavailable", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
		s.ErrorPage(w, r, http.StatusServiceUnavailable, "The store is unavailable; try again in a moment.")
	case r.Context().Err() != nil:
		s.ErrorPage(w, r, http.StatusServiceUnavailable, "The request was canceled.")
	default:
		s.log.ErrorContext(r.Context(), s.name+": backend error", "method", r.Method, "path", r.URL.Path, "error", err)
		s.ErrorPage(w, r, http.StatusInternalServerError, "Internal error; see the server log.")
	}
}

// Done ends an action: on success, a refusal the user can act on (a
// conflict, invalid input, an unknown name) it leaves the outcome for the
// next page and sends the browser back where the action came from; other
// errors get their error page.
func (s *Site) Done(w http.ResponseWriter, r *http.Request, se *Session, err error, ok string, fallback string) {
	switch {
	case err == nil:
		s.Sessions.SetFlash(se, Flash{Text: ok})
	case errors.Is(err, hook.ErrConflict), errors.Is(err, hook.ErrNotFound), errors.Is(err, hook.ErrInvalid):
		s.Sessions.SetFlash(se, Flash{Text: Message(err), Error: true})
	default:
		s.BackendError(w, r, err)
		return
	}
	http.Redirect(w, r, s.Back(r, fallback), http.StatusSeeOther)
}

// Back is where an action sends the browser: its form's "back" field
// when that is a path of this site, else fallback.
func (s *Site) Back(r *http.Request, fallback string) string {
	return Back(s.prefix, r.PostFormValue("back"), fallback)
}

// Static returns the handler of GET <prefix>static/{file}: the file of
// that name in the first of dirs that has it (the site's own files, then
// [Shared]). With nosniff, a browser runs a script only when it is
// labelled as one, so only known types are served.
func (s *Site) Static(dirs ...fs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		ct, known := staticTypes[path.Ext(name)]
		if known && fs.ValidPath(name) && !strings.Contains(name, "/") {
			for _, dir := range dirs {
				if b, err := fs.ReadFile(dir, name); err == nil {
					w.Header().Set("Content-Type", ct)
					_, _ = w.Write(b)
					return
				}
			}
		}
		s.ErrorPage(w, r, http.StatusNotFound, "No such file: "+Cut(name, 80))
	}
}

// staticTypes are the content types of the embedded files.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// Common are the routes every site has: the login form and its POST
// (check judges the token, wrong is what a wrong one is told), the log
// out, and the static files (the site's own, then [Shared]).
func (s *Site) Common(check func(ctx context.Context, token string) (hook.Principal, error), wrong string, static fs.FS) []Route {
	return []Route{
		{"GET " + s.prefix + "login", s.LoginForm},
		{"POST " + s.prefix + "login", s.Login(check, wrong)},
		{"POST " + s.prefix + "logout", s.Action(s.Logout)},
		{"GET " + s.prefix + "static/{file}", s.Static(static, Shared)},
	}
}

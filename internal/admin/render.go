package admin

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// assets are the page's templates, stylesheet and script: everything it
// loads comes from here, no CDN.
//
//go:embed assets
var assets embed.FS

// pageNames are the templates of assets/, each rendered inside
// assets/layout.html.
var pageNames = []string{"login", "error", "deliveries", "delivery", "targets", "sessions", "plugins", "config", "confirm"}

// pages holds one parsed template per page.
type pages struct{ byName map[string]*template.Template }

// mustParsePages parses the embedded templates; they are part of the
// binary, so a failure is a programming error.
func mustParsePages() *pages {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html"))
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t := template.Must(layout.Clone())
		p.byName[name] = template.Must(t.ParseFS(assets, "assets/"+name+".html"))
	}
	return p
}

// view is what every page template gets: the layout's parts and the
// page's own Data.
type view struct {
	Title string
	// Nav names the menu entry of the page ("deliveries", "dead", …).
	Nav string
	// CSRF is the session's token, for the forms' hidden field; "" hides
	// the menu (login and error pages without a session).
	CSRF string
	// Logout shows the log-out button: there is a token to log in with.
	Logout bool
	Flash  *flash
	// Self is the page's own path and query: where its actions come back.
	Self string
	Data any
}

// newView starts the view of a page for session se, taking its flash.
func (s *server) newView(r *http.Request, se *session, title, nav string) view {
	return view{Title: title, Nav: nav, CSRF: se.csrf, Logout: s.loginRequired(),
		Flash: s.sessions.takeFlash(se), Self: r.URL.RequestURI()}
}

// render writes the page name with v; a template error is logged and
// answered with a plain 500 (the page is rendered to a buffer first, so
// nothing half-written goes out).
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.ErrorContext(r.Context(), "admin: rendering a page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage answers status with a page saying msg.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := view{Title: fmt.Sprintf("%d %s", status, http.StatusText(status)), Data: msg}
	if _, se := s.sessionOf(r); se != nil {
		v.CSRF, v.Logout = se.csrf, s.loginRequired()
	}
	s.render(w, r, status, "error", v)
}

// backendError answers an error of the Backend met while rendering a page.
func (s *server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, hook.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, cut(err.Error(), 200))
	case errors.Is(err, hook.ErrUnavailable):
		s.log.WarnContext(r.Context(), "admin: store unavailable", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
		s.errorPage(w, r, http.StatusServiceUnavailable, "The store is unavailable; try again in a moment.")
	case r.Context().Err() != nil:
		s.errorPage(w, r, http.StatusServiceUnavailable, "The request was canceled.")
	default:
		s.log.ErrorContext(r.Context(), "admin: backend error", "method", r.Method, "path", r.URL.Path, "error", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Internal error; see the server log.")
	}
}

// done ends an action: on success, a conflict (the state did not allow
// it) or an unknown name, it leaves the outcome for the next page and
// sends the browser back where the action came from; other errors get
// their error page.
func (s *server) done(w http.ResponseWriter, r *http.Request, se *session, err error, ok string, fallback string) {
	switch {
	case err == nil:
		s.sessions.setFlash(se, flash{Text: ok})
	case errors.Is(err, hook.ErrConflict), errors.Is(err, hook.ErrNotFound):
		s.sessions.setFlash(se, flash{Text: cut(err.Error(), 300), Error: true})
	default:
		s.backendError(w, r, err)
		return
	}
	http.Redirect(w, r, back(r.PostForm.Get("back"), fallback), http.StatusSeeOther)
}

// back returns where an action sends the browser: the form's "back" field
// when it is a path of the admin page, else fallback. Anything else (an
// absolute URL, "//host", a backslash) could send the browser elsewhere,
// and is ignored.
func back(field, fallback string) string {
	if len(field) > 2048 || !strings.HasPrefix(field, "/admin/") || strings.ContainsAny(field, "\\\r\n") ||
		strings.Contains(field, "//") {
		return fallback
	}
	if u, err := url.Parse(field); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return field
}

// cut shortens s to at most n bytes, on a character boundary, marking the
// cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"whenp": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	},
	"ago":    ago,
	"dur":    duration,
	"cut":    func(n int, s string) string { return cut(s, n) },
	"fields": sortedFields,
	"calls":  callSummary,
	"short":  func(s string) string { return cut(s, 12) },
	"tail":   tail,
	"live":   func(st hook.DeliveryState) bool { return st.Live() },
}

// tail shortens an id to its last 8 bytes: an EVENT_ID is a UUIDv7,
// whose leading bytes are a timestamp that events of the same minute
// share, while its end tells them apart.
func tail(s string) string {
	if len(s) <= 12 {
		return s
	}
	return "…" + s[len(s)-8:]
}

// ago says how long ago t was, roughly ("3m ago", "in 20s").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// duration prints a latency with three significant digits at most.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// field is one event field, for a table.
type field struct{ Name, Value string }

// sortedFields returns an event's fields by name.
func sortedFields(m map[string]string) []field {
	out := make([]field, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, field{k, m[k]})
	}
	return out
}

// callSummary prints a plugin's calls by outcome, ok first, then the
// other outcomes that happened ("ok 12 · trap 1").
func callSummary(calls map[string]int64) string {
	keys := slices.SortedFunc(maps.Keys(calls), func(a, b string) int {
		if (a == hook.PluginOK) != (b == hook.PluginOK) {
			if a == hook.PluginOK {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if calls[k] != 0 || k == hook.PluginOK {
			parts = append(parts, fmt.Sprintf("%s %d", k, calls[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

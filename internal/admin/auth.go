package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/internal/authguard"
)

// loginRequired reports whether the admin page asks for the token: the API
// has one.
func (s *server) loginRequired() bool { return s.tokenHash != nil }

// tokenOK compares a pasted token with the API's, in constant time (the
// hashes have the same length whatever was pasted).
func (s *server) tokenOK(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.tokenHash) == 1
}

// handler is a page or an action, given the request's live session.
type handler func(w http.ResponseWriter, r *http.Request, se *session)

// page wraps a GET page: it needs a live session, and without one it
// sends the browser to the login form. Without a token, a visitor gets a
// session on the spot: actions still need its CSRF token.
func (s *server) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, se := s.sessionOf(r)
		if se == nil {
			if s.loginRequired() {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			var id string
			id, se = s.sessions.create()
			s.setCookie(w, r, id)
		}
		h(w, r, se)
	}
}

// api wraps a JSON endpoint of the page's script: it needs a live session
// and answers 401 without one.
func (s *server) api(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, se := s.sessionOf(r)
		if se == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"log in at /admin/login"}` + "\n"))
			return
		}
		h(w, r, se)
	}
}

// action wraps a state-changing POST: it must come from a page of this
// origin (Origin, or else Referer), with a live session and its CSRF token
// in the form field "csrf". The form is at most maxForm bytes.
func (s *server) action(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := sameOrigin(r); err != nil {
			s.log.WarnContext(r.Context(), "admin: cross-origin request refused", "path", r.URL.Path,
				"remote", r.RemoteAddr, "error", err)
			s.errorPage(w, r, http.StatusForbidden, "Refused: "+err.Error()+".")
			return
		}
		if !s.parseForm(w, r) {
			return
		}
		_, se := s.sessionOf(r)
		if se == nil {
			s.errorPage(w, r, http.StatusForbidden, "Your session has ended; log in again (or reload the page).")
			return
		}
		if !se.checkCSRF(r.PostForm.Get("csrf")) {
			s.log.WarnContext(r.Context(), "admin: request without a valid CSRF token refused", "path", r.URL.Path,
				"remote", r.RemoteAddr)
			s.errorPage(w, r, http.StatusForbidden, "Refused: the form's CSRF token is missing or not this session's; reload the page and try again.")
			return
		}
		h(w, r, se)
	}
}

// parseForm reads a POST form of at most maxForm bytes, answering 413 or
// 400 when it cannot.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d bytes.", maxForm))
		} else {
			s.errorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+cut(err.Error(), 200))
		}
		return false
	}
	return true
}

// sameOrigin checks that a state-changing request comes from a page of
// this origin: Sec-Fetch-Site, when the browser sends it, must say
// same-origin; Origin, or when there is none Referer, must name this
// host. A request with neither is refused: every browser sends Origin
// with a POST, and a same-origin Referer is kept by the page's
// Referrer-Policy.
func sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("the request came from another site (Sec-Fetch-Site: %s)", cut(site, 40))
	}
	from, header := r.Header.Get("Origin"), "Origin"
	if from == "" || from == "null" {
		from, header = r.Header.Get("Referer"), "Referer"
	}
	if from == "" {
		return errors.New("the request has neither an Origin nor a Referer header naming this site")
	}
	u, err := url.Parse(from)
	if err != nil || u.Host == "" {
		return fmt.Errorf("its %s %q is not a URL", header, cut(from, 80))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Behind a TLS-terminating proxy the page is https while this request
	// is not: an https origin of the same host is still this site.
	if !strings.EqualFold(u.Host, r.Host) || (u.Scheme != scheme && u.Scheme != "https") {
		return fmt.Errorf("its %s %s is not this site (%s://%s)", header, cut(u.Scheme+"://"+u.Host, 80), scheme, cut(r.Host, 80))
	}
	return nil
}

// handleLoginForm serves the login form; logged-in operators, and
// everyone when there is no token, go to the deliveries.
func (s *server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, se := s.sessionOf(r); se != nil || !s.loginRequired() {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", view{Title: "Log in"})
}

// handleLogin checks the pasted token and starts a session. The token is
// never logged nor echoed back.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.loginRequired() {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	if err := sameOrigin(r); err != nil {
		s.errorPage(w, r, http.StatusForbidden, "Refused: "+err.Error()+".")
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	// An address that keeps pasting wrong tokens must wait before its
	// next one is checked (authguard): it is answered 429, unchecked.
	if wait := s.sessions.guard.Wait(r); wait > 0 {
		secs := authguard.RetryAfter(wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Log in",
			Flash: &flash{Text: fmt.Sprintf("Too many wrong tokens from your address: try again in %d s.", secs), Error: true}})
		return
	}
	if !s.tokenOK(strings.TrimSpace(r.PostForm.Get("token"))) {
		wait := s.sessions.guard.Wrong(r)
		s.log.WarnContext(r.Context(), "admin: login with a wrong token", "remote", r.RemoteAddr, "wait", wait)
		s.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in",
			Flash: &flash{Text: "That is not the API token (server.token_file).", Error: true}})
		return
	}
	s.sessions.guard.Right(r)
	if oldID, _ := s.sessionOf(r); oldID != "" {
		s.sessions.remove(oldID) // a fresh id at every login
	}
	id, _ := s.sessions.create()
	s.setCookie(w, r, id)
	s.log.InfoContext(r.Context(), "admin: operator logged in", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// handleLogout ends the session.
func (s *server) handleLogout(w http.ResponseWriter, r *http.Request, _ *session) {
	id, _ := s.sessionOf(r)
	s.sessions.remove(id)
	s.clearCookie(w, r)
	s.log.InfoContext(r.Context(), "admin: operator logged out", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/internal/authguard"
)

// cookieName is the session cookie. It is scoped to /admin/, so the API
// never sees it.
const cookieName = "hookd_admin"

// session is one operator's login: its CSRF token and the message the
// next page shows (the outcome of the last action).
type session struct {
	csrf    string
	expires time.Time
	flash   *flash
}

// flash is a one-time message: the outcome of an action, shown by the page
// the action redirects to.
type flash struct {
	Text  string
	Error bool
}

// sessions are the logins of one handler, in memory, keyed by the SHA-256
// of their id: the ids themselves, which are the cookies, are not kept.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	// guard slows down an address that keeps pasting wrong tokens into
	// the login form (the API's bearer token has the same policy).
	guard *authguard.Guard

	mu   sync.Mutex
	byID map[[sha256.Size]byte]*session
}

func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &sessions{ttl: ttl, max: max, now: now, guard: authguard.New(authguard.Options{Now: now}),
		byID: map[[sha256.Size]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url: a session id or a CSRF
// token.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns its id (the cookie's value). When
// the store is full it drops the expired sessions, then the one that
// would end first.
func (ss *sessions) create() (string, *session) {
	id := randomToken()
	se := &session{csrf: randomToken(), expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= ss.max {
		ss.purgeLocked()
	}
	ss.byID[sha256.Sum256([]byte(id))] = se
	return id, se
}

// purgeLocked drops the expired sessions, and if that freed nothing, the
// one that ends first.
func (ss *sessions) purgeLocked() {
	now := ss.now()
	var first [sha256.Size]byte
	var firstEnd time.Time
	for k, se := range ss.byID {
		if !now.Before(se.expires) {
			delete(ss.byID, k)
			continue
		}
		if firstEnd.IsZero() || se.expires.Before(firstEnd) {
			first, firstEnd = k, se.expires
		}
	}
	if len(ss.byID) >= ss.max {
		delete(ss.byID, first)
	}
}

// get returns the live session of id, or nil. An expired one is dropped.
func (ss *sessions) get(id string) *session {
	if id == "" || len(id) > 128 {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	se := ss.byID[k]
	if se == nil {
		return nil
	}
	if !ss.now().Before(se.expires) {
		delete(ss.byID, k)
		return nil
	}
	return se
}

// remove ends the session of id.
func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, sha256.Sum256([]byte(id)))
}

// setFlash leaves a message for the session's next page.
func (ss *sessions) setFlash(se *session, f flash) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	se.flash = &f
}

// takeFlash returns the session's message, once.
func (ss *sessions) takeFlash(se *session) *flash {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	f := se.flash
	se.flash = nil
	return f
}

// checkCSRF reports whether token is the session's CSRF token, in
// constant time.
func (se *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(se.csrf)) == 1
}

// sessionOf returns the request's session and its id, or nil.
func (s *server) sessionOf(r *http.Request) (string, *session) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", nil
	}
	return c.Value, s.sessions.get(c.Value)
}

// setCookie hands the browser the session id: HttpOnly (no script reads
// it), SameSite=Strict (no other site's page sends it), scoped to
// /admin/, Secure when the browser reached the page over TLS, and ending
// with the session.
func (s *server) setCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/admin/",
		MaxAge:   int(s.sessions.ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: viaTLS(r),
	})
}

// clearCookie tells the browser to forget the session.
func (s *server) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/admin/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: viaTLS(r),
	})
}

// viaTLS reports whether the browser reached the page over TLS: this
// connection is TLS, or the proxy in front says the browser's was
// (X-Forwarded-Proto: https, or Forwarded: proto=https). hookd serves
// plain HTTP, so behind a TLS-terminating proxy r.TLS is always nil and
// the cookie was never Secure. The headers are trusted without knowing
// the proxy: a forged one only makes the cookie stricter (the browser then
// sends it over https only), it cannot expose it.
func viaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	// The first value is the one the proxy nearest the browser set.
	if v := r.Header.Get("X-Forwarded-Proto"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		return strings.EqualFold(strings.TrimSpace(first), "https")
	}
	if v := r.Header.Get("Forwarded"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		for pair := range strings.SplitSeq(first, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if strings.EqualFold(k, "proto") {
				return strings.EqualFold(strings.Trim(val, `"`), "https")
			}
		}
	}
	return false
}

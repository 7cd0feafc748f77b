package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/authguard"
)

// Session is one login: who it is, its CSRF token and the message the
// next page shows (the outcome of the last action).
type Session struct {
	// CSRF is the token every form of the session carries.
	CSRF string
	// Who logged in: the operator on the admin page, a domain's owner on
	// the portal.
	Who hook.Principal

	// credential is what the login pasted, kept (in memory only) when the
	// site re-checks it at every request; "" otherwise.
	credential string
	expires    time.Time
	flash      *Flash
}

// Flash is a one-time message: the outcome of an action, shown by the
// page the action redirects to.
type Flash struct {
	Text  string
	Error bool
}

// CheckCSRF reports whether token is the session's CSRF token, in
// constant time.
func (se *Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(se.CSRF)) == 1
}

// Sessions are the logins of one site, in memory, keyed by the SHA-256 of
// their id: the ids themselves, which are the cookies, are not kept.
type Sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	// Guard slows down an address that keeps pasting wrong tokens into
	// the login form (the API's bearer token has the same policy).
	Guard *authguard.Guard

	mu   sync.Mutex
	byID map[[sha256.Size]byte]*Session
}

// NewSessions returns an empty store; ttl, max and now default to
// [DefaultSessionTTL], [DefaultMaxSessions] and time.Now.
func NewSessions(ttl time.Duration, max int, now func() time.Time) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{ttl: ttl, max: max, now: now, Guard: authguard.New(authguard.Options{Now: now}),
		byID: map[[sha256.Size]byte]*Session{}}
}

// Defaults of the session store.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultMaxSessions = 1000
)

// TTL is how long a session lasts.
func (ss *Sessions) TTL() time.Duration { return ss.ttl }

// Len is how many sessions are kept (expired ones included until they are
// next looked up or purged).
func (ss *Sessions) Len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byID)
}

// RandomToken returns 32 random bytes, base64url: a session id or a CSRF
// token.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create starts a session for who and returns its id (the cookie's
// value). credential is kept for a site that re-checks it. When the store
// is full it drops the expired sessions, then the one that would end
// first.
func (ss *Sessions) Create(who hook.Principal, credential string) (string, *Session) {
	id := RandomToken()
	se := &Session{CSRF: RandomToken(), Who: who, credential: credential, expires: ss.now().Add(ss.ttl)}
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
func (ss *Sessions) purgeLocked() {
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

// Get returns the live session of id, or nil. An expired one is dropped.
func (ss *Sessions) Get(id string) *Session {
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

// Remove ends the session of id.
func (ss *Sessions) Remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, sha256.Sum256([]byte(id)))
}

// SetFlash leaves a message for the session's next page.
func (ss *Sessions) SetFlash(se *Session, f Flash) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	se.flash = &f
}

// TakeFlash returns the session's message, once.
func (ss *Sessions) TakeFlash(se *Session) *Flash {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	f := se.flash
	se.flash = nil
	return f
}

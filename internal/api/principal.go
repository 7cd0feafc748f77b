package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// access says who may call a route.
type access int

const (
	// accessOperator: the operator's token only. A domain token is
	// answered 404, as for a path that does not exist.
	accessOperator access = iota + 1
	// accessScoped: the operator or a domain's owner; the handler shows
	// and changes only what the principal may see (through ops, or the
	// backend's methods that take the principal).
	accessScoped
	// accessPublic: no token (the probes, the JWK set, and the pages that
	// do their own login).
	accessPublic
)

// String names the access for the route list and test failures.
func (a access) String() string {
	switch a {
	case accessOperator:
		return "operator"
	case accessScoped:
		return "scoped"
	case accessPublic:
		return "public"
	}
	return "unknown"
}

// route is a registered pattern and who may call it.
type route struct {
	Pattern string
	Access  access
}

// registrar registers routes with one access. Its methods keep the
// shape of ServeMux's (a pattern literal, a handler), which the test
// that compares the routes with openapi.json reads from the source.
type registrar struct {
	s   *server
	acc access
}

func (s *server) registrar(acc access) registrar { return registrar{s, acc} }

// Handle registers h at pattern for g's principals.
func (g registrar) Handle(pattern string, h http.Handler) {
	g.s.routes = append(g.s.routes, route{pattern, g.acc})
	if g.s.accessOf == nil {
		g.s.accessOf = map[string]access{}
	}
	g.s.accessOf[pattern] = g.acc
	g.s.mux.Handle(pattern, h)
}

// HandleFunc registers h at pattern for g's principals.
func (g registrar) HandleFunc(pattern string, h http.HandlerFunc) { g.Handle(pattern, h) }

// access returns the access of a registered pattern, and whether it is
// one ("" is the mux's answer for no route).
func (s *server) access(pattern string) (access, bool) {
	acc, ok := s.accessOf[pattern]
	return acc, ok
}

// DomainBackend is what the domain routes serve: [ops.DomainBackend],
// the operations room's one list of them (the admin page's Domains pages
// serve the same). A Backend that does not implement it has no domain
// tokens, and /v1/domains answers 404.
type DomainBackend = ops.DomainBackend

// principalKey is the context key of the request's principal.
type principalKey struct{}

func withPrincipal(ctx context.Context, who hook.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, who)
}

// principal is who makes r: the operator unless a domain token was
// authenticated.
func principal(r *http.Request) hook.Principal {
	who, _ := r.Context().Value(principalKey{}).(hook.Principal)
	return who
}

// authenticate resolves the bearer token to a principal: the operator's
// token, else a domain token (through the DomainBackend). A missing or
// wrong token is answered 401 and it returns false.
//
// An address that keeps sending wrong tokens (operator's or domain's)
// must wait before its next one is checked (authguard): meanwhile its
// requests are answered 429 with Retry-After, unchecked, so that a token
// cannot be guessed at the speed of the network, nor the store asked at
// that speed.
//
// Without an operator token (auth off, loopback only), every request is
// the operator's, except one that presents a valid domain token: it is
// that domain's owner, so that a portal or CLI on loopback sees what it
// would see elsewhere.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (hook.Principal, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	ok = ok && strings.EqualFold(scheme, "Bearer") && token != ""
	if s.tokenHash == nil {
		if ok && s.domains != nil {
			if who, err := s.domains.AuthenticateDomainToken(r.Context(), token); err == nil && !who.IsOperator() {
				return who, true
			}
		}
		return hook.Operator(), true
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookd"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
		return hook.Principal{}, false
	}
	if wait := s.guard.Wait(r); wait > 0 {
		tooManyWrong(w, wait)
		return hook.Principal{}, false
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash) == 1 {
		s.guard.Right(r)
		return hook.Operator(), true
	}
	if s.domains != nil {
		who, err := s.domains.AuthenticateDomainToken(r.Context(), token)
		switch {
		case err == nil && !who.IsOperator():
			s.guard.Right(r)
			return who, true
		case errors.Is(err, hook.ErrUnavailable) || r.Context().Err() != nil:
			// The store could not say, or the client left: not a wrong
			// token.
			s.backendError(w, r, err, "")
			return hook.Principal{}, false
		}
	}
	if wait := s.guard.Wrong(r); wait > 0 {
		s.log.WarnContext(r.Context(), "api: wrong bearer tokens from one address; it must wait",
			"remote", r.RemoteAddr, "wait", wait)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hookd", error="invalid_token"`)
	writeError(w, http.StatusUnauthorized, "invalid bearer token")
	return hook.Principal{}, false
}

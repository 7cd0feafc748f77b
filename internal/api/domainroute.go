package api

import (
	"context"
	"net/http"

	"github.com/hookrt/hookd/hook"
)

// Every /v1/domains/{id}… route has one shape: read the domain and check
// that the principal may see it, check the query, read the route's own
// input, ask the DomainBackend, answer. domainRoute holds what differs
// from route to route; serve is the shape, once, so that a route cannot
// forget the principal check or answer a backend error its own way.

// none is the input of a route that takes no query parameters and no body.
type none = struct{}

// domainCall is one request to a domain route, once the principal is
// known to see the domain.
type domainCall struct {
	ctx context.Context
	b   DomainBackend
	who hook.Principal
	id  string
}

// domainRoute is what one domain route reads, asks and answers.
type domainRoute[In any] struct {
	// params are the query parameters the route takes; any other, or one
	// given twice, is 400.
	params []string
	// read reads the route's input from the request (its path values,
	// query and body), answering a bad one itself (4xx) and returning
	// false. nil: the route has no input beyond the domain.
	read func(http.ResponseWriter, *http.Request) (In, bool)
	// call asks the backend; its value is the answer's body.
	call func(domainCall, In) (any, error)
	// status is the answer's on success; 0 is 200.
	status int
	// notFound names what is missing when the backend answers
	// hook.ErrNotFound; nil: the domain.
	notFound func(id string, in In) string
}

// serve answers r with the route: 404 (or 400) for a domain the principal
// may not see, 400 for bad input, the backend's error as backendError
// maps it, or the call's value as JSON.
func (rt domainRoute[In]) serve(s *server, w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query(), rt.params...) {
		return
	}
	var in In
	if rt.read != nil {
		if in, ok = rt.read(w, r); !ok {
			return
		}
	}
	v, err := rt.call(domainCall{ctx: r.Context(), b: b, who: who, id: id}, in)
	if err != nil {
		missing := domainNotFound(id)
		if rt.notFound != nil {
			missing = rt.notFound(id, in)
		}
		s.backendError(w, r, err, missing)
		return
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, v)
}

// listed is the answer of a route that lists things: {key: [...]}, with
// [] rather than null when there are none.
func listed[T any](key string, vs []T, err error) (any, error) {
	return map[string][]T{key: orEmpty(vs)}, err
}

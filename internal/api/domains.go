package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// The routes of domains as data (/v1/domains…): thin views over the
// DomainBackend, whose methods take the principal and answer a domain it
// may not see as not found. The API checks the same before asking, so that
// no backend error text about another domain ever reaches the answer.

// Bounds of the domain routes' inputs.
const (
	maxDomainID   = 255
	maxTokenBody  = 4 << 10
	maxTokenName  = 100
	maxListLines  = 1000 // logs and audit: the largest page
	defListLines  = 100
	maxDryRunBody = 1 << 20 // the JSON of a dry run: events and stubs
	maxSettings   = 64 << 10
	// multipartSlack is what a multipart body may carry besides its
	// parts' contents: boundaries and part headers.
	multipartSlack = 16 << 10
)

// domainFor reads the {id} of a domain route and checks that the
// principal may see it. It answers 404 (or 400 for an id that cannot be
// one) and returns false otherwise.
func (s *server) domainFor(w http.ResponseWriter, r *http.Request) (DomainBackend, hook.Principal, string, bool) {
	id, who := r.PathValue("id"), principal(r)
	switch {
	case s.domains == nil:
		writeError(w, http.StatusNotFound, "no such path: "+r.URL.Path+" (this server keeps no domains as data)")
	case id == "" || len(id) > maxDomainID:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("domain id: must be 1 to %d bytes", maxDomainID))
	case !who.Sees(id):
		writeError(w, http.StatusNotFound, domainNotFound(id))
	default:
		return s.domains, who, id, true
	}
	return nil, who, "", false
}

func domainNotFound(id string) string { return "domain " + quoteCut(id) + " not found" }

// onlyParams refuses query parameters not in allowed, and repeated ones,
// answering 400.
func onlyParams(w http.ResponseWriter, q url.Values, allowed ...string) bool {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		vs := q[name]
		if !slices.Contains(allowed, name) {
			msg := "unknown query parameter " + quoteCut(name)
			if len(allowed) > 0 {
				msg += fmt.Sprintf(": use %q", allowed)
			} else {
				msg += ": this route takes none"
			}
			writeError(w, http.StatusBadRequest, msg)
			return false
		}
		if len(vs) > 1 {
			writeError(w, http.StatusBadRequest, "query parameter "+quoteCut(name)+" given more than once")
			return false
		}
	}
	return true
}

// handleDomains serves GET /v1/domains: every domain for the operator,
// its own for a domain's owner.
func (s *server) handleDomains(w http.ResponseWriter, r *http.Request) {
	if s.domains == nil {
		writeError(w, http.StatusNotFound, "no such path: "+r.URL.Path+" (this server keeps no domains as data)")
		return
	}
	if !onlyParams(w, r.URL.Query()) {
		return
	}
	ds, err := s.domains.Domains(r.Context(), principal(r))
	if err != nil {
		s.backendError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Domains []hook.DomainInfo `json:"domains"`
	}{orEmpty(ds)})
}

// handleDomain serves GET /v1/domains/{id}.
func (s *server) handleDomain(w http.ResponseWriter, r *http.Request) {
	domainRoute[none]{call: func(c domainCall, _ none) (any, error) {
		return c.b.Domain(c.ctx, c.who, c.id)
	}}.serve(s, w, r)
}

// handlePutDomain serves PUT /v1/domains/{id}: the body is the domain's
// settings as JSON, with the keys of a [[domain]] entry. It is validated
// exactly as at start (400 naming what is wrong); a domain of the TOML
// file is 409.
func (s *server) handlePutDomain(w http.ResponseWriter, r *http.Request) {
	domainRoute[[]byte]{
		read: func(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
			return s.readJSONBody(w, r, s.maxBody, "the domain's settings")
		},
		call: func(c domainCall, body []byte) (any, error) {
			return c.b.PutDomain(c.ctx, c.who, c.id, body)
		},
	}.serve(s, w, r)
}

// handleDeleteDomain serves DELETE /v1/domains/{id} (the operator's).
func (s *server) handleDeleteDomain(w http.ResponseWriter, r *http.Request) {
	domainRoute[none]{call: func(c domainCall, _ none) (any, error) {
		return map[string]string{"domain": c.id, "status": "deleted"}, c.b.DeleteDomain(c.ctx, c.who, c.id)
	}}.serve(s, w, r)
}

// tokenRequest is the body of POST /v1/domains/{id}/tokens.
type tokenRequest struct {
	name string
	ttl  time.Duration // 0: the token does not expire
}

// handleCreateToken serves POST /v1/domains/{id}/tokens with
// {"name": "ci", "ttl": "720h"}: the token is in the answer, once.
func (s *server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	domainRoute[tokenRequest]{
		read: s.readTokenRequest,
		call: func(c domainCall, in tokenRequest) (any, error) {
			return c.b.CreateDomainToken(c.ctx, c.who, c.id, in.name, in.ttl)
		},
		status: http.StatusCreated,
	}.serve(s, w, r)
}

// readTokenRequest reads and checks the body of a token's creation.
func (s *server) readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, bool) {
	body, ok := s.readJSONBody(w, r, maxTokenBody, `{"name": "…", "ttl": "720h"}`)
	if !ok {
		return tokenRequest{}, false
	}
	var in struct {
		Name string `json:"name"`
		TTL  string `json:"ttl"`
	}
	if err := decodeStrict(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, `body must be {"name": "…", "ttl": "720h"} (ttl optional): `+err.Error())
		return tokenRequest{}, false
	}
	if in.Name == "" || len(in.Name) > maxTokenName {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("name: must be 1 to %d bytes, naming who uses the token (ci, alice)", maxTokenName))
		return tokenRequest{}, false
	}
	req := tokenRequest{name: in.Name}
	if in.TTL != "" {
		d, err := time.ParseDuration(in.TTL)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("ttl %s: must be a positive duration (720h), or left out for a token that does not expire", quoteCut(in.TTL)))
			return tokenRequest{}, false
		}
		req.ttl = d
	}
	return req, true
}

// handleTokens serves GET /v1/domains/{id}/tokens (never their secrets).
func (s *server) handleTokens(w http.ResponseWriter, r *http.Request) {
	domainRoute[none]{call: func(c domainCall, _ none) (any, error) {
		ts, err := c.b.DomainTokens(c.ctx, c.who, c.id)
		for i := range ts {
			ts[i].Secret = "" // shown once, when created
		}
		return listed("tokens", ts, err)
	}}.serve(s, w, r)
}

// handleRevokeToken serves DELETE /v1/domains/{id}/tokens/{token}.
func (s *server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	domainRoute[string]{
		read: func(w http.ResponseWriter, r *http.Request) (string, bool) {
			tokID := r.PathValue("token")
			if len(tokID) > maxDomainID {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("token id: must be 1 to %d bytes", maxDomainID))
				return "", false
			}
			return tokID, true
		},
		call: func(c domainCall, tokID string) (any, error) {
			return map[string]string{"domain": c.id, "token": tokID, "status": "revoked"},
				c.b.RevokeDomainToken(c.ctx, c.who, c.id, tokID)
		},
		notFound: func(id, tokID string) string {
			return "token " + quoteCut(tokID) + " of domain " + quoteCut(id) + " not found"
		},
	}.serve(s, w, r)
}

// handlePluginLogs serves GET /v1/domains/{id}/logs?limit=: the last lines
// the domain's plugin wrote, on every node, newest last.
func (s *server) handlePluginLogs(w http.ResponseWriter, r *http.Request) {
	domainRoute[int]{params: []string{"limit"}, read: lineLimit, call: func(c domainCall, limit int) (any, error) {
		lines, err := c.b.PluginLogs(c.ctx, c.who, c.id, limit)
		return listed("lines", lines, err)
	}}.serve(s, w, r)
}

// handleAudit serves GET /v1/domains/{id}/audit?limit=: the domain's
// changes, who made them and when.
func (s *server) handleAudit(w http.ResponseWriter, r *http.Request) {
	domainRoute[int]{params: []string{"limit"}, read: lineLimit, call: func(c domainCall, limit int) (any, error) {
		es, err := c.b.DomainAudit(c.ctx, c.who, c.id, limit)
		return listed("entries", es, err)
	}}.serve(s, w, r)
}

// handleSummary serves GET /v1/domains/{id}/summary.
func (s *server) handleSummary(w http.ResponseWriter, r *http.Request) {
	domainRoute[none]{call: func(c domainCall, _ none) (any, error) {
		return c.b.DomainSummary(c.ctx, c.who, c.id)
	}}.serve(s, w, r)
}

// lineLimit reads the optional limit of the logs and audit routes.
func lineLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	q := r.URL.Query()
	if !q.Has("limit") {
		return defListLines, true
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > maxListLines {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %s: must be a number from 1 to %d", ops.Quote(q.Get("limit")), maxListLines))
		return 0, false
	}
	return n, true
}

// readJSONBody reads a JSON body of at most limit bytes, answering 413
// (naming the limit), 415 for another Content-Type, or 400 for a body
// that is not JSON.
func (s *server) readJSONBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && mediaType(ct) != typeJSON {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s: send %s as application/json", quoteCut(ct), what))
		return nil, false
	}
	body, ok := readAtMost(w, r.Body, limit, what, "")
	if !ok {
		return nil, false
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "the body is not JSON: send "+what)
		return nil, false
	}
	return body, true
}

// readAtMost reads r to its end, answering 413 when it is longer than
// limit bytes: the message names what it bounds, the limit, and where the
// limit is set (setting, when not "").
func readAtMost(w http.ResponseWriter, r io.Reader, limit int64, what, setting string) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig || int64(len(body)) > limit {
		msg := fmt.Sprintf("%s: larger than the limit of %d bytes", what, limit)
		if setting != "" {
			msg += " (" + setting + ")"
		}
		writeError(w, http.StatusRequestEntityTooLarge, msg)
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request body")
		return nil, false
	}
	return body, true
}

// mediaType is the media type of a Content-Type, lower case ("" when it
// cannot be read).
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

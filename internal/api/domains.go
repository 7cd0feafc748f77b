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
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	d, err := b.Domain(r.Context(), who, id)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handlePutDomain serves PUT /v1/domains/{id}: the body is the domain's
// settings as JSON, with the keys of a [[domain]] entry. It is validated
// exactly as at start (400 naming what is wrong); a domain of the TOML
// file is 409.
func (s *server) handlePutDomain(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	body, ok := s.readJSONBody(w, r, s.maxBody, "the domain's settings")
	if !ok {
		return
	}
	d, err := b.PutDomain(r.Context(), who, id, body)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleDeleteDomain serves DELETE /v1/domains/{id} (the operator's).
func (s *server) handleDeleteDomain(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	if err := b.DeleteDomain(r.Context(), who, id); err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"domain": id, "status": "deleted"})
}

// handleCreateToken serves POST /v1/domains/{id}/tokens with
// {"name": "ci", "ttl": "720h"}: the token is in the answer, once.
func (s *server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	body, ok := s.readJSONBody(w, r, maxTokenBody, `{"name": "…", "ttl": "720h"}`)
	if !ok {
		return
	}
	var in struct {
		Name string `json:"name"`
		TTL  string `json:"ttl"`
	}
	if err := decodeStrict(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, `body must be {"name": "…", "ttl": "720h"} (ttl optional): `+err.Error())
		return
	}
	if in.Name == "" || len(in.Name) > maxTokenName {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("name: must be 1 to %d bytes, naming who uses the token (ci, alice)", maxTokenName))
		return
	}
	var ttl time.Duration
	if in.TTL != "" {
		d, err := time.ParseDuration(in.TTL)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("ttl %s: must be a positive duration (720h), or left out for a token that does not expire", quoteCut(in.TTL)))
			return
		}
		ttl = d
	}
	tok, err := b.CreateDomainToken(r.Context(), who, id, in.Name, ttl)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusCreated, tok)
}

// handleTokens serves GET /v1/domains/{id}/tokens (never their secrets).
func (s *server) handleTokens(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	ts, err := b.DomainTokens(r.Context(), who, id)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	for i := range ts {
		ts[i].Secret = "" // shown once, when created
	}
	writeJSON(w, http.StatusOK, struct {
		Tokens []hook.DomainToken `json:"tokens"`
	}{orEmpty(ts)})
}

// handleRevokeToken serves DELETE /v1/domains/{id}/tokens/{token}.
func (s *server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	tokID := r.PathValue("token")
	if len(tokID) > maxDomainID {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("token id: must be 1 to %d bytes", maxDomainID))
		return
	}
	if err := b.RevokeDomainToken(r.Context(), who, id, tokID); err != nil {
		s.backendError(w, r, err, "token "+quoteCut(tokID)+" of domain "+quoteCut(id)+" not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"domain": id, "token": tokID, "status": "revoked"})
}

// handlePluginLogs serves GET /v1/domains/{id}/logs?limit=: the last lines
// the domain's plugin wrote, on every node, newest last.
func (s *server) handlePluginLogs(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok {
		return
	}
	limit, ok := lineLimit(w, r.URL.Query())
	if !ok {
		return
	}
	lines, err := b.PluginLogs(r.Context(), who, id, limit)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Lines []hook.PluginLogLine `json:"lines"`
	}{orEmpty(lines)})
}

// handleAudit serves GET /v1/domains/{id}/audit?limit=: the domain's
// changes, who made them and when.
func (s *server) handleAudit(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok {
		return
	}
	limit, ok := lineLimit(w, r.URL.Query())
	if !ok {
		return
	}
	es, err := b.DomainAudit(r.Context(), who, id, limit)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Entries []hook.AuditEntry `json:"entries"`
	}{orEmpty(es)})
}

// handleSummary serves GET /v1/domains/{id}/summary.
func (s *server) handleSummary(w http.ResponseWriter, r *http.Request) {
	b, who, id, ok := s.domainFor(w, r)
	if !ok || !onlyParams(w, r.URL.Query()) {
		return
	}
	sum, err := b.DomainSummary(r.Context(), who, id)
	if err != nil {
		s.backendError(w, r, err, domainNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// lineLimit reads the optional limit of the logs and audit routes.
func lineLimit(w http.ResponseWriter, q url.Values) (int, bool) {
	if !onlyParams(w, q, "limit") {
		return 0, false
	}
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

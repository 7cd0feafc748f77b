package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// DomainBackend is what the Domains pages show and change: domains as
// data, their plugin versions, tokens and audit trail. It is
// [ops.DomainBackend], as for the API, so that the API and the admin page
// are two views of the same runtime methods (which decide what the operator may do and
// say why not); *hookrt.Runtime implements it. The page asks every method
// as the operator.
//
// A [Backend] that does not implement it (a test's, an embedder's) gets
// no Domains pages and no menu entry: [New] checks.
type DomainBackend = ops.DomainBackend

// Bounds of the Domains pages.
const (
	// maxDomainID bounds a domain id in a path: the runtime's own bound
	// (it refuses longer ones, naming what it allows).
	maxDomainID = maxNameLen
	// domainAudit is how many of a domain's latest changes its page shows.
	domainAudit = 50
	// maxTTLText bounds the TTL field's text.
	maxTTLText = 32
)

// domainsData is what the domains list shows.
type domainsData struct {
	Domains []hook.DomainInfo
}

// handleDomains serves the domains, those of config.toml (read-only) and
// the stored ones, with a form that opens a domain by id: a domain that
// is not defined yet has a page too, where its owner's first token is
// made.
func (s *server) handleDomains(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		if len(id) > maxDomainID {
			s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("A domain id is 1 to %d bytes long.", maxDomainID))
			return
		}
		http.Redirect(w, r, domainPath(id), http.StatusSeeOther)
		return
	}
	ds, err := s.domains.Domains(r.Context(), se.Who)
	if err != nil {
		s.site.BackendError(w, r, err)
		return
	}
	v := s.site.NewView(r, se, "Domains", "domains")
	v.Data = domainsData{Domains: ds}
	s.site.Render(w, r, http.StatusOK, "domains", v)
}

// domainData is what one domain's page shows.
type domainData struct {
	ID string
	// Domain is the domain as the runtime shows it (a stored spec's
	// secrets redacted); Defined is false when neither config.toml nor
	// the store has it yet.
	Domain   hook.DomainInfo
	Defined  bool
	Spec     string
	Versions []hook.PluginVersion
	Tokens   []hook.DomainToken
	Audit    []hook.AuditEntry
	// Summary is its target's deliveries by state and its plugin's calls
	// on this node (nil when it has no target here).
	Summary *hook.DomainSummary
}

// Stored reports whether the domain is stored (so it can be deleted here).
func (d domainData) Stored() bool { return d.Defined && d.Domain.Source == hook.DomainFromStore }

// handleDomain serves one domain: its spec, plugin versions, tokens (with
// the forms that make and revoke them), audit trail and, when stored, the
// button that deletes it.
func (s *server) handleDomain(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.domainID(w, r)
	if !ok {
		return
	}
	ctx, who := r.Context(), se.Who
	d := domainData{ID: id}
	info, err := s.domains.Domain(ctx, who, id)
	switch {
	case err == nil:
		d.Domain, d.Defined, d.Spec = info, true, indentJSON(info.Spec)
	case !errors.Is(err, hook.ErrNotFound):
		s.site.BackendError(w, r, err)
		return
	}
	// A domain that is not defined may still have tokens (made for its
	// owner's first upload) and a trail (it was deleted): both are shown.
	if d.Versions, err = s.domains.PluginVersions(ctx, who, id); err != nil && !errors.Is(err, hook.ErrNotFound) {
		s.site.BackendError(w, r, err)
		return
	}
	if d.Tokens, err = s.domains.DomainTokens(ctx, who, id); err != nil {
		s.site.BackendError(w, r, err)
		return
	}
	for i := range d.Tokens {
		d.Tokens[i].Secret = "" // shown once, on the page that made it
	}
	if d.Audit, err = s.domains.DomainAudit(ctx, who, id, domainAudit); err != nil && !errors.Is(err, hook.ErrNotFound) {
		s.site.BackendError(w, r, err)
		return
	}
	if d.Defined {
		sum, err := s.domains.DomainSummary(ctx, who, id)
		if err != nil && !errors.Is(err, hook.ErrNotFound) {
			s.site.BackendError(w, r, err)
			return
		}
		if err == nil {
			d.Summary = &sum
		}
	}
	v := s.site.NewView(r, se, "Domain "+id, "domains")
	v.Data = d
	s.site.Render(w, r, http.StatusOK, "domain", v)
}

// tokenData is the page that shows a new token, once.
type tokenData struct {
	Domain string
	Token  hook.DomainToken
}

// handleCreateToken makes a token for the domain: the form's name and
// optional TTL (a duration: 720h). The answer is the page that shows the
// token, this once: it is not in any redirect, flash or log, and the
// store keeps only its hash.
func (s *server) handleCreateToken(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.domainID(w, r)
	if !ok {
		return
	}
	back := domainPath(id)
	name := strings.TrimSpace(r.PostForm.Get("name"))
	ttlText := strings.TrimSpace(r.PostForm.Get("ttl"))
	var ttl time.Duration
	if ttlText != "" {
		d, err := time.ParseDuration(ttlText)
		if err != nil || d <= 0 || len(ttlText) > maxTTLText {
			s.refuse(w, r, se, back, fmt.Sprintf("TTL %q: a positive duration such as 720h or 90m, or empty for a token that does not expire. No token was made.",
				webui.Cut(ttlText, maxTTLText)))
			return
		}
		ttl = d
	}
	if name == "" {
		s.refuse(w, r, se, back, "A token needs a name: who uses it (ci, alice). No token was made.")
		return
	}
	tok, err := s.domains.CreateDomainToken(r.Context(), se.Who, id, name, ttl)
	if err != nil {
		s.site.Done(w, r, se, err, "", back)
		return
	}
	s.log.InfoContext(r.Context(), "admin: domain token created", "domain", id, "token_id", tok.ID, "name", tok.Name,
		"remote", r.RemoteAddr)
	v := s.site.NewView(r, se, "Token for domain "+id, "domains")
	v.Data = tokenData{Domain: id, Token: tok}
	s.site.Render(w, r, http.StatusOK, "token", v)
}

// handleRevokeToken revokes one of the domain's tokens: from the next
// request on, on every node, it authenticates nothing, and the portal
// sessions it opened end.
func (s *server) handleRevokeToken(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.domainID(w, r)
	if !ok {
		return
	}
	tokID := r.PathValue("token")
	if tokID == "" || len(tokID) > maxDomainID {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("A token id is 1 to %d bytes long.", maxDomainID))
		return
	}
	name := webui.Cut(strings.TrimSpace(r.PostForm.Get("name")), 100)
	err := s.domains.RevokeDomainToken(r.Context(), se.Who, id, tokID)
	if err == nil {
		s.log.InfoContext(r.Context(), "admin: domain token revoked", "domain", id, "token_id", tokID, "remote", r.RemoteAddr)
	}
	label := tokID
	if name != "" {
		label = fmt.Sprintf("%s (%s)", name, tokID)
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Token %s of domain %s is revoked: it opens nothing from now on, on every node, and the portal sessions it opened end.",
		label, id), domainPath(id))
}

// handleDeleteDomain deletes a stored domain, once the operator has said
// so on the confirm page: the first POST asks, the second (force=1)
// deletes. Its plugin versions and tokens go, its target leaves every
// node and its waiting deliveries are discarded; its audit trail stays.
func (s *server) handleDeleteDomain(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.domainID(w, r)
	if !ok {
		return
	}
	back := domainPath(id)
	if r.PostForm.Get("force") != "1" {
		v := s.site.NewView(r, se, "Delete domain "+id+"?", "domains")
		v.Data = confirmData{
			Message: fmt.Sprintf("Domain %s will be deleted on every node: its stored settings, plugin versions and tokens go, "+
				"its target leaves and its waiting deliveries are discarded (they stay in the log, and can be replayed if it comes back); "+
				"its audit trail stays", id),
			Nothing: "Nothing is deleted yet.", Button: "Delete domain " + id,
			Action: back + "/delete", Back: back,
		}
		s.site.Render(w, r, http.StatusOK, "confirm", v)
		return
	}
	if err := s.domains.DeleteDomain(r.Context(), se.Who, id); err != nil {
		s.site.Done(w, r, se, err, "", back)
		return
	}
	s.log.InfoContext(r.Context(), "admin: domain deleted", "domain", id, "remote", r.RemoteAddr)
	s.site.Sessions.SetFlash(se, webui.Flash{Text: fmt.Sprintf("Domain %s is deleted on every node; its waiting deliveries are discarded.", id)})
	http.Redirect(w, r, "/admin/domains", http.StatusSeeOther)
}

// refuse sends the browser back with a message saying why nothing was
// done.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, se *webui.Session, back, msg string) {
	s.site.Sessions.SetFlash(se, webui.Flash{Text: msg, Error: true})
	http.Redirect(w, r, s.site.Back(r, back), http.StatusSeeOther)
}

// domainID reads the {id} of a domain page, answering 400 for one that
// cannot be an id.
func (s *server) domainID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxDomainID {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("A domain id is 1 to %d bytes long.", maxDomainID))
		return "", false
	}
	return id, true
}

// domainPath is the path of a domain's page (ids may hold any character
// but /, ? and #).
func domainPath(id string) string { return "/admin/domains/" + url.PathEscape(id) }

// indentJSON shows a spec indented, or as it is when it is not JSON.
func indentJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

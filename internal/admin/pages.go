package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// sessionData is what the page of a session's record shows.
type sessionData struct {
	ID     string
	Error  string
	Events []hook.SessionEvent
	Asked  bool // an id was given: say so when the record is empty
}

// handleSessions serves a session's record: ?id=<SESSIONID> lists its
// events in order, each with its outcome at every target.
func (s *server) handleSessions(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	v := s.site.NewView(r, se, "Sessions", "sessions")
	d := sessionData{ID: id}
	status := http.StatusOK
	switch {
	case id == "":
	case len(id) > maxNameLen:
		d.Error, status = fmt.Sprintf("A session id is at most %d bytes long; this one is %d.", maxNameLen, len(id)), http.StatusBadRequest
	default:
		evs, err := s.scope(se).SessionEvents(r.Context(), id)
		if err != nil {
			s.site.BackendError(w, r, err)
			return
		}
		d.Events, d.Asked = evs, true
		v.Title = "Session " + webui.Cut(id, 40)
	}
	v.Data = d
	s.site.Render(w, r, status, "sessions", v)
}

// handlePlugins serves the WASM plugins, with a button that reloads them.
func (s *server) handlePlugins(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	v := s.site.NewView(r, se, "Plugins", "plugins")
	v.Data = s.scope(se).Plugins()
	s.site.Render(w, r, http.StatusOK, "plugins", v)
}

// handleReload asks the plugins to pick up changed files now (as SIGHUP
// does). A plugin whose new file is refused keeps running its old one;
// the page says why.
func (s *server) handleReload(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	err := s.b.Reload(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "admin: plugin reload", "error", err, "remote", r.RemoteAddr)
		s.site.Sessions.SetFlash(se, webui.Flash{Text: "Reload: " + webui.Cut(err.Error(), 500) + " (the plugins whose reload failed keep their previous version).", Error: true})
	} else {
		s.log.InfoContext(r.Context(), "admin: plugins reloaded", "remote", r.RemoteAddr)
		s.site.Sessions.SetFlash(se, webui.Flash{Text: "Plugins reloaded."})
	}
	http.Redirect(w, r, "/admin/plugins", http.StatusSeeOther)
}

// configData is what the config page shows.
type configData struct {
	TOML  string
	Error string
}

// handleConfig serves the effective config, secrets redacted.
func (s *server) handleConfig(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	v := s.site.NewView(r, se, "Config", "config")
	var d configData
	if b, err := s.scope(se).Config(); errors.Is(err, hook.ErrNotFound) {
		d.Error = "The effective config is not available here."
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "admin: rendering the config", "error", err)
		d.Error = "The config cannot be shown; see the server log."
	} else {
		d.TOML = string(b)
	}
	v.Data = d
	s.site.Render(w, r, http.StatusOK, "config", v)
}

// handleStats serves /admin/stats.json for the live chart: the operations
// room's chart of this node's recent outcomes.
func (s *server) handleStats(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	st, err := s.scope(se).Stats()
	if err != nil {
		st = ops.Stats{Interval: ops.StatsInterval}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ops.Chart(st))
}

package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

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

package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui"
	hookrt "github.com/hookrt/hookd/runtime"
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
		evs, err := s.b.SessionEvents(r.Context(), id)
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
	v.Data = s.b.Plugins()
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
	if s.config == nil {
		d.Error = "The effective config is not available here."
	} else if b, err := s.config(); err != nil {
		s.log.ErrorContext(r.Context(), "admin: rendering the config", "error", err)
		d.Error = "The config cannot be shown; see the server log."
	} else {
		d.TOML = string(b)
	}
	v.Data = d
	s.site.Render(w, r, http.StatusOK, "config", v)
}

// statsJSON is the chart's data: one column per series, one entry per
// second, oldest first.
type statsJSON struct {
	IntervalMS int64     `json:"interval_ms"`
	End        int64     `json:"end_ms"` // the start of the last interval, unix ms
	Delivered  []int     `json:"delivered"`
	Failed     []int     `json:"failed"`
	Dead       []int     `json:"dead"`
	P50MS      []float64 `json:"p50_ms"`
	P99MS      []float64 `json:"p99_ms"`
}

// handleStats serves /admin/stats.json for the live chart.
func (s *server) handleStats(w http.ResponseWriter, r *http.Request, _ *webui.Session) {
	st := s.b.Stats()
	out := statsJSON{IntervalMS: st.Interval.Milliseconds(), Delivered: []int{}, Failed: []int{}, Dead: []int{},
		P50MS: []float64{}, P99MS: []float64{}}
	for _, b := range st.Buckets {
		out.Delivered = append(out.Delivered, b.Delivered)
		out.Failed = append(out.Failed, b.Failed)
		out.Dead = append(out.Dead, b.Dead)
		out.P50MS = append(out.P50MS, ms(b.P50))
		out.P99MS = append(out.P99MS, ms(b.P99))
	}
	if n := len(st.Buckets); n > 0 {
		out.End = st.Buckets[n-1].Start.UnixMilli()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// summary is the chart in words, for the page without script and for the
// chart's caption.
type summary struct {
	Seconds                 int
	Delivered, Failed, Dead int
	P99                     time.Duration // the largest p99 of the window
	Rate                    string        // delivered per second over the last minute
}

// summarize adds up stats.
func summarize(st hookrt.Stats) summary {
	out := summary{Seconds: len(st.Buckets)}
	lastMinute := 0
	for i, b := range st.Buckets {
		out.Delivered += b.Delivered
		out.Failed += b.Failed
		out.Dead += b.Dead
		out.P99 = max(out.P99, b.P99)
		if i >= len(st.Buckets)-60 {
			lastMinute += b.Delivered
		}
	}
	out.Rate = fmt.Sprintf("%.1f", float64(lastMinute)/60)
	return out
}

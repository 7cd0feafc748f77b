package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui"
)

// Bounds of the logs and settings pages.
const (
	defaultLogLines = 200
	maxLogLines     = 1000
	auditLines      = 50
	maxSpec         = 12 << 10 // the settings form's JSON; the form itself is at most webui.MaxForm
)

// logsData is what the plugin logs page shows.
type logsData struct {
	Lines []hook.PluginLogLine
	Limit int
	Error string
}

// handleLogs serves the last lines the domain's plugin wrote, on every
// node, newest first, each with the event it was handling.
func (s *server) handleLogs(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	v := s.site.NewView(r, se, "Plugin logs", "logs")
	d := logsData{Limit: defaultLogLines}
	status := http.StatusOK
	if l := strings.TrimSpace(r.URL.Query().Get("limit")); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLogLines {
			d.Error, status = fmt.Sprintf("limit %q: must be a number of lines from 1 to %d", webui.Cut(l, 32), maxLogLines), http.StatusBadRequest
		} else {
			d.Limit = n
		}
	}
	if d.Error == "" {
		lines, err := s.b.PluginLogs(r.Context(), se.Who, se.Who.Domain, d.Limit)
		if err != nil && !errors.Is(err, hook.ErrNotFound) {
			s.site.BackendError(w, r, err)
			return
		}
		d.Lines = lines
	}
	v.Data = d
	s.site.Render(w, r, status, "logs", v)
}

// settingsData is what the settings page shows.
type settingsData struct {
	Domain hook.DomainInfo
	// Stored is false before the first upload or save: the domain has no
	// stored record yet.
	Stored bool
	// ReadOnly: the domain is a [[domain]] of the config file.
	ReadOnly bool
	Spec     string
	Audit    []hook.AuditEntry
	// Delivery is how the domain's target is reached (its "delivery"
	// settings as the engine applies them, secrets left out); nil when it
	// has none. Running is false when the domain has no target on this
	// node (no script or plugin yet): then nothing is said of it.
	Delivery *hook.DeliveryView
	Running  bool
}

// handleSettings serves the domain's settings (script or plugin, strict,
// combine interval, the plugin's limits and config) as JSON with the keys
// of a [[domain]] entry, editable when the domain is stored, and the
// audit of its changes. Secrets read "<redacted>" (the runtime redacts
// every view of a domain); saved back as they are, they keep the stored
// values, so the form can be saved as shown.
func (s *server) handleSettings(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	ctx, who := r.Context(), se.Who
	d := settingsData{}
	info, err := s.b.Domain(ctx, who, who.Domain)
	switch {
	case err == nil:
		d.Domain, d.Stored, d.ReadOnly = info, info.Source == hook.DomainFromStore, info.Source == hook.DomainFromConfig
		d.Spec = indent(info.Spec)
	case errors.Is(err, hook.ErrNotFound):
		d.Domain = hook.DomainInfo{ID: who.Domain}
		d.Spec = "{\n  \"strict\": true\n}"
	default:
		s.site.BackendError(w, r, err)
		return
	}
	if d.Audit, err = s.b.DomainAudit(ctx, who, who.Domain, auditLines); err != nil && !errors.Is(err, hook.ErrNotFound) {
		s.site.BackendError(w, r, err)
		return
	}
	d.Delivery, d.Running = s.deliveryView(r, se)
	v := s.site.NewView(r, se, "Settings", "settings")
	v.Data = d
	s.site.Render(w, r, http.StatusOK, "settings", v)
}

// deliveryView is the delivery settings of the session's domain's target,
// from the targets the session's scope sees (its own only), as the
// engine applies them: the same view the admin page and the targets API
// show the operator; running reports whether the target is there at all.
// An error is logged, not shown (as when the target is not running): the
// settings page does not need it.
func (s *server) deliveryView(r *http.Request, se *webui.Session) (v *hook.DeliveryView, running bool) {
	sc := s.scope(se)
	ts, err := sc.Targets(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "portal: target status", "domain", se.Who.Domain, "error", err)
		return nil, false
	}
	for _, t := range ts {
		if t.Name == sc.Target() {
			return t.Delivery, true
		}
	}
	return nil, false
}

// indent pretty-prints a JSON document for the form, as it came when it
// is not JSON.
func indent(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// handlePutSettings saves the domain's settings; the runtime validates
// them as serve would and applies them on every node.
func (s *server) handlePutSettings(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	spec := strings.TrimSpace(r.PostForm.Get("spec"))
	var err error
	switch {
	case spec == "":
		err = hook.Invalid("the settings are empty: give a JSON object with the keys of a [[domain]] entry")
	case len(spec) > maxSpec:
		err = hook.Invalid("the settings are %d bytes long; at most %d are accepted", len(spec), maxSpec)
	}
	var info hook.DomainInfo
	if err == nil {
		info, err = s.b.PutDomain(r.Context(), se.Who, se.Who.Domain, []byte(spec))
	}
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: settings saved", "who", se.Who.String(), "revision", info.Revision, "remote", r.RemoteAddr)
	} else if errors.Is(err, hook.ErrInvalid) || errors.Is(err, hook.ErrConflict) {
		err = fmt.Errorf("nothing saved: %w", err)
	}
	s.done(w, r, se, err, fmt.Sprintf("Settings saved (revision %d); every node applies them within seconds.", info.Revision), "/portal/settings")
}

package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui"
)

// Bounds of the plugin forms besides the module itself.
const (
	maxSettings = 64 << 10 // the settings JSON of a version
	maxEvents   = 64 << 10 // a dry run's events and stubs, JSON
	maxLast     = 50       // a dry run's "last N recorded events"
)

// pluginData is what the plugin page shows.
type pluginData struct {
	Domain   hook.DomainInfo
	Versions []hook.PluginVersion
	// Status is the running plugin's status on this node (calls, warm
	// instances, last reload error), when it runs one.
	Status   *hook.PluginStatus
	MaxBytes int64
	// HasDomain is false before the first upload: no stored record yet.
	HasDomain bool
}

// handlePlugin serves the domain's plugin: the active version, every
// stored version (activate, roll back, delete), an upload form and a dry
// run form.
func (s *server) handlePlugin(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	ctx, who := r.Context(), se.Who
	d := pluginData{MaxBytes: s.maxUpload - uploadOverhead}
	info, err := s.b.Domain(ctx, who, who.Domain)
	switch {
	case err == nil:
		d.Domain, d.HasDomain = info, true
	case errors.Is(err, hook.ErrNotFound):
		d.Domain = hook.DomainInfo{ID: who.Domain}
	default:
		s.site.BackendError(w, r, err)
		return
	}
	if d.HasDomain && info.Source == hook.DomainFromStore {
		if d.Versions, err = s.b.PluginVersions(ctx, who, who.Domain); err != nil && !errors.Is(err, hook.ErrNotFound) {
			s.site.BackendError(w, r, err)
			return
		}
	}
	for _, p := range s.scope(se).Plugins() {
		if p.Domain == who.Domain {
			d.Status = &p
		}
	}
	v := s.site.NewView(r, se, "Plugin", "plugin")
	v.Data = d
	s.site.Render(w, r, http.StatusOK, "plugin", v)
}

// formFile reads the upload's file part name, at most max bytes; nil
// without one.
func formFile(r *http.Request, name string, max int64) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, hook.Invalid("the %s file cannot be read: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, hook.Invalid("the %s file cannot be read: %v", name, err)
	}
	if int64(len(b)) > max {
		return nil, hook.Invalid("the %s file is larger than %s", name, webui.Bytes(max))
	}
	return b, nil
}

// jsonField reads an optional JSON form field of at most max bytes; nil
// when empty.
func jsonField(r *http.Request, name string, max int) (json.RawMessage, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return nil, nil
	}
	if len(v) > max {
		return nil, hook.Invalid("%s is %d bytes long; at most %d are accepted", name, len(v), max)
	}
	if !json.Valid([]byte(v)) {
		return nil, hook.Invalid("%s is not valid JSON", name)
	}
	return json.RawMessage(v), nil
}

// handleUpload stores a new version of the domain's plugin (the runtime
// checks it exactly as serve would) and, when asked, activates it on
// every node.
func (s *server) handleUpload(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	module, err := formFile(r, "module", s.maxUpload-uploadOverhead)
	if err == nil && len(module) == 0 {
		err = hook.Invalid("choose a .wasm file to upload")
	}
	var settings json.RawMessage
	if err == nil {
		settings, err = jsonField(r, "settings", maxSettings)
	}
	activate := r.PostFormValue("activate") != ""
	var pv hook.PluginVersion
	if err == nil {
		pv, err = s.b.PushPlugin(r.Context(), se.Who, se.Who.Domain, module, settings, activate)
	}
	msg := fmt.Sprintf("Version %d stored (%s, SHA-256 %s).", pv.Version, webui.Bytes(pv.Size), webui.Cut(pv.SHA256, 12))
	if err == nil {
		if activate {
			msg = fmt.Sprintf("Version %d stored and active on every node (%s, SHA-256 %s).", pv.Version, webui.Bytes(pv.Size), webui.Cut(pv.SHA256, 12))
		}
		s.log.InfoContext(r.Context(), "portal: plugin uploaded", "who", se.Who.String(), "version", pv.Version,
			"sha256", pv.SHA256, "active", activate, "remote", r.RemoteAddr)
	}
	s.done(w, r, se, uploadError(err), msg, "/portal/plugin")
}

// uploadError prefixes a refusal with what was refused.
func uploadError(err error) error {
	if err != nil && (errors.Is(err, hook.ErrInvalid) || errors.Is(err, hook.ErrConflict)) {
		return fmt.Errorf("upload refused: %w", err)
	}
	return err
}

// version reads the path's version number, answering 400 when it is none.
func (s *server) version(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, ok := s.site.PathNumber(w, r, "version", "Version")
	return int(n), ok
}

// handleActivate makes a stored version the active one on every node:
// an older one is a rollback.
func (s *server) handleActivate(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	n, ok := s.version(w, r)
	if !ok {
		return
	}
	pv, err := s.b.ActivatePlugin(r.Context(), se.Who, se.Who.Domain, n)
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: plugin version activated", "who", se.Who.String(), "version", n, "remote", r.RemoteAddr)
	}
	s.done(w, r, se, err, fmt.Sprintf("Version %d is active on every node (SHA-256 %s).", pv.Version, webui.Cut(pv.SHA256, 12)), "/portal/plugin")
}

// handleDeleteVersion deletes a stored version that is not active.
func (s *server) handleDeleteVersion(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	n, ok := s.version(w, r)
	if !ok {
		return
	}
	err := s.b.DeletePluginVersion(r.Context(), se.Who, se.Who.Domain, n)
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: plugin version deleted", "who", se.Who.String(), "version", n, "remote", r.RemoteAddr)
	}
	s.done(w, r, se, err, fmt.Sprintf("Version %d is deleted.", n), "/portal/plugin")
}

// dryRunData is what the dry run's page shows.
type dryRunData struct {
	// Candidate names what ran: an uploaded file or a stored version.
	Candidate string
	Results   []hook.DryRunResult
	// Signups are the candidate's decisions on the form's sign-ups;
	// AskedSignups is whether the form gave any.
	Signups      []hook.DryRunSignupResult
	AskedSignups bool
	Error        string
}

// dryRun runs req on the owner's domain.
func (s *server) dryRun(ctx context.Context, who hook.Principal, req hook.DryRunRequest) (hook.DryRunReport, error) {
	return s.b.DryRunPlugin(ctx, who, who.Domain, req)
}

// handleDryRun runs a candidate (an uploaded module, not stored; or a
// stored version) on events given in the form or the domain's last
// recorded ones, and on the form's sign-ups, and shows what it would have
// done with each. Nothing is delivered or stored, so the answer is a
// page, not a redirect.
func (s *server) handleDryRun(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	req, candidate, err := s.dryRunRequest(r)
	var rep hook.DryRunReport
	if err == nil {
		rep, err = s.dryRun(r.Context(), se.Who, req)
	}
	d := dryRunData{Candidate: candidate, Results: rep.Results, Signups: rep.Signups, AskedSignups: len(req.Signups) > 0}
	status := http.StatusOK
	switch {
	case err == nil:
		s.log.InfoContext(r.Context(), "portal: dry run", "who", se.Who.String(), "candidate", candidate,
			"events", len(rep.Results), "signups", len(rep.Signups), "remote", r.RemoteAddr)
	case errors.Is(err, hook.ErrInvalid), errors.Is(err, hook.ErrConflict):
		d.Error, status = webui.Message(err), http.StatusBadRequest
	default:
		s.site.BackendError(w, r, err)
		return
	}
	v := s.site.NewView(r, se, "Dry run", "plugin")
	v.Data = d
	s.site.Render(w, r, status, "dryrun", v)
}

// dryRunRequest reads the dry run form: module (a file) or version (a
// stored one), settings (JSON), events (a JSON array of objects of
// fields) or last (how many recorded events; 10 when the form gives
// neither events nor sign-ups), signups (a JSON array of
// hook.DryRunSignup), stubs (a JSON array of hook.HTTPStub) and
// live_http.
func (s *server) dryRunRequest(r *http.Request) (hook.DryRunRequest, string, error) {
	var req hook.DryRunRequest
	module, err := formFile(r, "module", s.maxUpload-uploadOverhead)
	if err != nil {
		return req, "", err
	}
	candidate := ""
	if len(module) > 0 {
		req.Module, candidate = module, fmt.Sprintf("the uploaded file (%s, not stored)", webui.Bytes(int64(len(module))))
	} else if v := strings.TrimSpace(r.PostFormValue("version")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return req, "", hook.Invalid("version %q: must be a stored version's number", webui.Cut(v, 32))
		}
		req.Version, candidate = n, fmt.Sprintf("version %d", n)
	} else {
		return req, "", hook.Invalid("choose a .wasm file or a stored version to test")
	}
	if req.Settings, err = jsonField(r, "settings", maxSettings); err != nil {
		return req, "", err
	}
	if raw, err := jsonField(r, "events", maxEvents); err != nil {
		return req, "", err
	} else if raw != nil {
		if err := json.Unmarshal(raw, &req.Events); err != nil {
			return req, "", hook.Invalid(`events: must be a JSON array of objects of fields, like [{"MODULE":"ISL_LIGHT","EVENT":"NEWSESSION"}]: %v`, err)
		}
	}
	if raw, err := jsonField(r, "signups", maxEvents); err != nil {
		return req, "", err
	} else if raw != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req.Signups); err != nil {
			return req, "", hook.Invalid(`signups: must be a JSON array of sign-ups, like [{"username":"ann","email":"ann@example.com","fullname":"Ann","language":"en"}]: %v`,
				strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if len(req.Events) == 0 {
		n := 0
		if len(req.Signups) == 0 {
			n = 10
		}
		if v := strings.TrimSpace(r.PostFormValue("last")); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxLast {
				return req, "", hook.Invalid("last %q: must be a number of recorded events from 1 to %d", webui.Cut(v, 32), maxLast)
			}
		}
		req.Last = n
	}
	if raw, err := jsonField(r, "stubs", maxEvents); err != nil {
		return req, "", err
	} else if raw != nil {
		if err := json.Unmarshal(raw, &req.Stubs); err != nil {
			return req, "", hook.Invalid(`stubs: must be a JSON array like [{"method":"GET","url":"https://api.example/x","status":200,"body":"{}"}]: %v`, err)
		}
	}
	req.LiveHTTP = r.PostFormValue("live_http") != ""
	return req, candidate, nil
}

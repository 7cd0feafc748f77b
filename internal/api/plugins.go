package api

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/hookrt/hookd/hook"
)

// The routes of a domain's plugin: upload a version (activated, or only
// stored), list them, activate one (a rollback is activating an older
// one), delete an unused one, and dry-run a candidate. The module's bytes
// come in a multipart body, bounded by the configured plugin size.

// pushRequest is the input of PUT /v1/domains/{id}/plugin.
type pushRequest struct {
	module, settings []byte
	activate         bool
}

// handlePushPlugin serves PUT /v1/domains/{id}/plugin[?activate=false]:
// multipart, part "module" the .wasm, part "settings" (optional) the JSON
// {"plugin": {…}, "config": {…}}. The module is checked as serve would
// (400 naming what is wrong), stored with its SHA-256 and a version
// number, and, unless activate=false, activated on every node.
func (s *server) handlePushPlugin(w http.ResponseWriter, r *http.Request) {
	domainRoute[pushRequest]{
		params: []string{"activate"},
		read:   s.readPush,
		call: func(c domainCall, in pushRequest) (any, error) {
			return c.b.PushPlugin(c.ctx, c.who, c.id, in.module, in.settings, in.activate)
		},
		status: http.StatusCreated,
	}.serve(s, w, r)
}

// readPush reads the upload of a plugin: ?activate= and the multipart body.
func (s *server) readPush(w http.ResponseWriter, r *http.Request) (pushRequest, bool) {
	in := pushRequest{activate: true}
	if v := r.URL.Query().Get("activate"); v != "" {
		a, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("activate %s: must be true or false", quoteCut(v)))
			return in, false
		}
		in.activate = a
	}
	parts, ok := s.readParts(w, r, map[string]int64{"module": s.maxPlugin, "settings": maxSettings})
	if !ok {
		return in, false
	}
	if len(parts["module"]) == 0 {
		writeError(w, http.StatusBadRequest, `no module: send the .wasm as the multipart part "module"`)
		return in, false
	}
	in.module, in.settings = parts["module"], parts["settings"]
	return in, true
}

// handlePluginVersions serves GET /v1/domains/{id}/plugin/versions.
func (s *server) handlePluginVersions(w http.ResponseWriter, r *http.Request) {
	domainRoute[none]{call: func(c domainCall, _ none) (any, error) {
		vs, err := c.b.PluginVersions(c.ctx, c.who, c.id)
		return listed("versions", vs, err)
	}}.serve(s, w, r)
}

// handleActivatePlugin serves POST
// /v1/domains/{id}/plugin/versions/{version}/activate: that version runs
// on every node (a rollback, when it is an older one).
func (s *server) handleActivatePlugin(w http.ResponseWriter, r *http.Request) {
	domainRoute[int]{read: pathVersion, notFound: versionNotFound, call: func(c domainCall, n int) (any, error) {
		return c.b.ActivatePlugin(c.ctx, c.who, c.id, n)
	}}.serve(s, w, r)
}

// handleDeletePluginVersion serves DELETE
// /v1/domains/{id}/plugin/versions/{version}; the active one is 409.
func (s *server) handleDeletePluginVersion(w http.ResponseWriter, r *http.Request) {
	domainRoute[int]{read: pathVersion, notFound: versionNotFound, call: func(c domainCall, n int) (any, error) {
		return map[string]any{"domain": c.id, "version": n, "status": "deleted"}, c.b.DeletePluginVersion(c.ctx, c.who, c.id, n)
	}}.serve(s, w, r)
}

// handleTestPlugin serves POST /v1/domains/{id}/plugin/test: a dry run.
// The body is a hook.DryRunRequest as JSON (testing a stored version), or
// multipart with the candidate as part "module" and the request as part
// "request". Nothing is delivered or stored. The answer is a
// hook.DryRunReport: "results" per event, and "signups" per sign-up
// given (what the candidate's hookd_v1_on_signup decided).
func (s *server) handleTestPlugin(w http.ResponseWriter, r *http.Request) {
	domainRoute[hook.DryRunRequest]{read: s.readDryRun, call: func(c domainCall, req hook.DryRunRequest) (any, error) {
		rep, err := c.b.DryRunPlugin(c.ctx, c.who, c.id, req)
		rep.Results = orEmpty(rep.Results)
		return rep, err
	}}.serve(s, w, r)
}

// readDryRun reads a dry run's request: JSON, or multipart with the
// candidate module beside it.
func (s *server) readDryRun(w http.ResponseWriter, r *http.Request) (hook.DryRunRequest, bool) {
	var req hook.DryRunRequest
	var raw []byte
	if mediaType(r.Header.Get("Content-Type")) == "multipart/form-data" {
		parts, ok := s.readParts(w, r, map[string]int64{"module": s.maxPlugin, "request": maxDryRunBody})
		if !ok {
			return req, false
		}
		raw, req.Module = parts["request"], parts["module"]
	} else {
		var ok bool
		if raw, ok = s.readJSONBody(w, r, maxDryRunBody, "a dry run's request (or multipart/form-data with the parts module and request)"); !ok {
			return req, false
		}
	}
	if len(raw) > 0 {
		module := req.Module
		if err := decodeStrict(raw, &req); err != nil {
			writeError(w, http.StatusBadRequest, "the dry run's request: "+err.Error())
			return req, false
		}
		req.Module = module
	}
	if len(req.Module) == 0 && req.Version == 0 {
		writeError(w, http.StatusBadRequest, `nothing to test: give "version" (a stored one) or upload the candidate as the multipart part "module"`)
		return req, false
	}
	return req, true
}

// pathVersion parses the {version} path value: a positive integer.
func pathVersion(w http.ResponseWriter, r *http.Request) (int, bool) {
	raw := r.PathValue("version")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || raw[0] == '+' {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("plugin version %s: must be a positive integer", quoteCut(raw)))
		return 0, false
	}
	return n, true
}

func versionNotFound(id string, n int) string {
	return fmt.Sprintf("version %d of domain %s's plugin not found", n, quoteCut(id))
}

// readParts reads a multipart/form-data body whose parts are named in
// limits, each at most its limit (413 naming it); another part, a part
// given twice or another Content-Type is refused (400, 415). The whole
// body is bounded by the sum of the limits and some slack for the part
// headers.
func (s *server) readParts(w http.ResponseWriter, r *http.Request, limits map[string]int64) (map[string][]byte, bool) {
	if mt := mediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s: send multipart/form-data with the parts %q",
			quoteCut(r.Header.Get("Content-Type")), partNames(limits)))
		return nil, false
	}
	total := int64(multipartSlack)
	for _, n := range limits {
		total += n
	}
	r.Body = http.MaxBytesReader(w, r.Body, total)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "the multipart body: "+err.Error())
		return nil, false
	}
	out := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			if tooLarge(err) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than the limit of %d bytes", total))
			} else {
				writeError(w, http.StatusBadRequest, "the multipart body: "+err.Error())
			}
			return nil, false
		}
		name := p.FormName()
		limit, known := limits[name]
		switch {
		case !known:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown part %s: send %q", quoteCut(name), partNames(limits)))
			return nil, false
		case out[name] != nil:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("part %q given more than once", name))
			return nil, false
		}
		what, setting := fmt.Sprintf("part %q", name), ""
		if name == "module" {
			what, setting = "the module", "[domains] max_plugin_size"
		}
		b, ok := readAtMost(w, p, limit, what, setting)
		if !ok {
			return nil, false
		}
		out[name] = b
	}
}

// tooLarge reports whether err is http.MaxBytesReader's.
func tooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}

// partNames lists the parts a multipart route takes, sorted.
func partNames(limits map[string]int64) []string {
	return slices.Sorted(maps.Keys(limits))
}

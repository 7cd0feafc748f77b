package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/hookrt/hookd/hook"
)

// maxActionBody bounds the optional {"reason": "…"} of a target action.
const maxActionBody = 4 << 10

// handleTargets serves GET /v1/targets.
func (s *server) handleTargets(w http.ResponseWriter, r *http.Request) {
	ts, err := s.b.TargetStatuses(r.Context())
	if err != nil {
		s.backendError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Targets []hook.TargetStatus `json:"targets"`
	}{orEmpty(ts)}) // [], not null, when there is none
}

// handleTargetAction serves POST /v1/targets/{name}/disable|enable|pause|resume,
// with an optional body {"reason": "…"} for disable and pause.
func (s *server) handleTargetAction(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	reason, err := actionReason(w, r)
	if err != nil {
		return // answered
	}
	ctx := r.Context()
	var state string
	switch action {
	case "disable":
		err, state = s.b.DisableTarget(ctx, name, cmpOr(reason, "disabled by an operator")), hook.TargetDisabled
	case "pause":
		err, state = s.b.PauseTarget(ctx, name, cmpOr(reason, "paused by an operator")), hook.TargetPaused
	case "enable":
		err, state = s.b.EnableTarget(ctx, name), hook.TargetEnabled
	case "resume":
		err, state = s.b.ResumeTarget(ctx, name), hook.TargetEnabled
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no action %s; use disable, enable, pause or resume", quoteCut(action)))
		return
	}
	if err != nil {
		s.backendError(w, r, err, "no target "+quoteCut(name))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"target": name, "state": state})
}

// actionReason reads the optional {"reason": "…"} body; on a bad body it
// answers 400 or 413 and returns an error.
func actionReason(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxActionBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxActionBody))
		} else {
			writeError(w, http.StatusBadRequest, "cannot read request body")
		}
		return "", err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	var in struct {
		Reason string `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, `body must be empty or {"reason": "…"}: `+err.Error())
		return "", err
	}
	return in.Reason, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

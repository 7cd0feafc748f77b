package api

import (
	"fmt"
	"net/http"

	"github.com/hookrt/hookd/hook"
)

// maxSessionID bounds the {id} of /v1/sessions/{id}/events.
const maxSessionID = 256

// handleSession serves GET /v1/sessions/{id}/events. A domain's owner gets
// only the events that went to its domain, each with only its target's
// outcome, and 404 for a session without any (ops' scope).
func (s *server) handleSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxSessionID {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("session id: must be 1 to %d bytes", maxSessionID))
		return
	}
	evs, err := s.scope(r).SessionEvents(r.Context(), id)
	if err != nil {
		s.backendError(w, r, err, "session "+quoteCut(id)+" not found")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SessionID string              `json:"session_id"`
		Events    []hook.SessionEvent `json:"events"`
	}{id, evs})
}

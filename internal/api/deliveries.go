package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// The delivery-log routes are thin views over the ops room: it parses the
// query (ops.ParseList, ops.ParseReplay) and scopes every read and action
// to what the principal may see; a delivery of another domain is answered
// exactly as one that does not exist.

// handleList serves GET /v1/deliveries?state=…&target=…&event_id=…&since=…&before=<id>&limit=<n>.
func (s *server) handleList(w http.ResponseWriter, r *http.Request) {
	f, err := ops.ParseList(r.URL.Query(), time.Now(), ops.Strict)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ds, err := s.scope(r).Deliveries(r.Context(), f)
	if err != nil {
		s.backendError(w, r, err, "no target "+quoteCut(f.Target))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []hook.Delivery `json:"deliveries"`
	}{orEmpty(ds)}) // [], not null, when there is none
}

// scope is the ops room narrowed to r's principal.
func (s *server) scope(r *http.Request) ops.Scope { return s.ops.Scope(principal(r)) }

// handleRetryMatching serves POST /v1/deliveries/retry?state=dead&target=…&since=…&limit=…&force=…:
// a bulk replay, answered with how many deliveries were replayed. Without
// limit it replays every match; with one (1 to ops.MaxReplayLimit), at
// most that many, oldest first, so that a client can replay in rounds (the
// ones replayed no longer match) and show its progress.
func (s *server) handleRetryMatching(w http.ResponseWriter, r *http.Request) {
	f, force, err := ops.ParseReplay(r.URL.Query(), time.Now(), ops.Strict)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.scope(r).Replay(r.Context(), f, force)
	if err != nil {
		s.backendError(w, r, err, "no target "+quoteCut(f.Target))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"retried": n})
}

// handleGet serves GET /v1/deliveries/{id}.
func (s *server) handleGet(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	d, err := s.scope(r).Delivery(r.Context(), id)
	if err != nil {
		s.backendError(w, r, err, notFoundMsg(id))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleRetry serves POST /v1/deliveries/{id}/retry[?force=true]: a
// delivery of a disabled or paused target is refused (409, naming the
// target's state) unless forced.
func (s *server) handleRetry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	force, err := ops.ParseForce(q.Get("force"))
	if err == nil && len(q["force"]) > 1 {
		err = fmt.Errorf(`query parameter "force" given more than once`)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sc := s.scope(r)
	s.act(w, r, func(ctx context.Context, id int64) error { return sc.Retry(ctx, id, force) }, http.StatusAccepted, "queued")
}

// handleDiscard serves POST /v1/deliveries/{id}/discard.
func (s *server) handleDiscard(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, s.scope(r).Discard, http.StatusOK, "discarded")
}

// act runs an action on the delivery named in the path and answers
// {"id":…,"status":…}.
func (s *server) act(w http.ResponseWriter, r *http.Request,
	do func(ctx context.Context, id int64) error, status int, word string,
) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := do(r.Context(), id); err != nil {
		s.backendError(w, r, err, notFoundMsg(id))
		return
	}
	writeJSON(w, status, struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}{id, word})
}

// pathID parses the {id} path value, answering 400 when it is not one.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := r.PathValue("id")
	id, err := ops.ParseID(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("delivery id %s: must be a positive integer", quoteCut(raw)))
		return 0, false
	}
	return id, true
}

func notFoundMsg(id int64) string { return fmt.Sprintf("delivery %d not found", id) }

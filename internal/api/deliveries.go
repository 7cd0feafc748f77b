package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// forcer is implemented by a Backend that refuses to replay into a
// disabled or paused target unless forced (the runtime does): the
// replay routes call it when the request says force=true.
type forcer interface {
	RetryForced(ctx context.Context, id int64) error
	RetryMatchingForced(ctx context.Context, f hook.DeliveryFilter) (int, error)
}

// maxListLimit is the largest page GET /v1/deliveries returns.
const maxListLimit = 1000

// listParams are the query parameters GET /v1/deliveries accepts.
var listParams = []string{"state", "target", "event_id", "since", "before", "limit"}

// handleList serves GET /v1/deliveries?state=…&target=…&event_id=…&before=<id>&limit=<n>.
func (s *server) handleList(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ds, err := s.b.ListDeliveries(r.Context(), f)
	if err != nil {
		s.backendError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []hook.Delivery `json:"deliveries"`
	}{orEmpty(ds)}) // [], not null, when there is none
}

// parseFilter checks the query of GET /v1/deliveries. Unknown or repeated
// parameters are refused, so that a typo does not silently list everything.
func parseFilter(q url.Values) (hook.DeliveryFilter, error) {
	var f hook.DeliveryFilter
	if err := checkParams(q, listParams); err != nil {
		return f, err
	}
	if v := q.Get("state"); v != "" {
		f.State = hook.DeliveryState(v)
		if !f.State.Valid() {
			names := make([]string, len(hook.DeliveryStates))
			for i, st := range hook.DeliveryStates {
				names[i] = string(st)
			}
			return f, fmt.Errorf("state %s is not one of %s", quoteCut(v), strings.Join(names, ", "))
		}
	}
	f.Target = q.Get("target")
	f.EventID = q.Get("event_id")
	if q.Has("since") {
		since, err := parseSince(q.Get("since"), time.Now())
		if err != nil {
			return f, err
		}
		f.Since = since
	}
	if q.Has("before") {
		id, err := parseID(q.Get("before"))
		if err != nil {
			return f, fmt.Errorf("before %s: must be a delivery id (a positive integer)", quoteCut(q.Get("before")))
		}
		f.BeforeID = id // the store pages downwards: IDs smaller than this one
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxListLimit {
			return f, fmt.Errorf("limit %s: must be a number from 1 to %d", quoteCut(q.Get("limit")), maxListLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// checkParams refuses query parameters not in allowed, and repeated ones.
func checkParams(q url.Values, allowed []string) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, name) {
			return fmt.Errorf("unknown query parameter %q: use %s", name, strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return fmt.Errorf("query parameter %q given more than once", name)
		}
	}
	return nil
}

// parseSince reads a since parameter: an RFC 3339 time
// ("2026-11-29T10:00:00Z") or a duration back from now ("24h", "90m").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since %s: must be an RFC 3339 time (2026-11-29T10:00:00Z) or a duration back from now (24h)", quoteCut(s))
}

// retryParams are the query parameters POST /v1/deliveries/retry accepts.
var retryParams = []string{"state", "target", "since", "limit", "force"}

// maxReplayLimit is the largest limit of one bulk replay: enough for a
// round of a client that replays in rounds to show progress, small enough
// that one request ends in seconds.
const maxReplayLimit = 10000

// handleRetryMatching serves POST /v1/deliveries/retry?state=dead&target=…&since=…&limit=…:
// a bulk replay, answered with how many deliveries were replayed. Without
// limit it replays every match; with one (1 to maxReplayLimit), at most
// that many, oldest first, so that a client can replay in rounds (the
// ones replayed no longer match) and show its progress.
func (s *server) handleRetryMatching(w http.ResponseWriter, r *http.Request) {
	f, err := parseRetryFilter(r.URL.Query())
	force, ferr := parseForce(r.URL.Query())
	if err = cmpOrErr(err, ferr); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	replay := s.b.RetryMatching
	if x, ok := s.b.(forcer); ok && force {
		replay = x.RetryMatchingForced
	}
	n, err := replay(r.Context(), f)
	if err != nil {
		s.backendError(w, r, err, "no target "+quoteCut(f.Target))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"retried": n})
}

// parseRetryFilter checks the query of POST /v1/deliveries/retry.
func parseRetryFilter(q url.Values) (hook.DeliveryFilter, error) {
	var f hook.DeliveryFilter
	if err := checkParams(q, retryParams); err != nil {
		return f, err
	}
	if v := q.Get("state"); v != "" {
		f.State = hook.DeliveryState(v)
		if f.State != hook.StateDead && f.State != hook.StateDiscarded && f.State != hook.StateRetrying {
			return f, fmt.Errorf("state %s: replay takes dead (the default), discarded or retrying", quoteCut(v))
		}
	}
	if q.Has("since") {
		since, err := parseSince(q.Get("since"), time.Now())
		if err != nil {
			return f, err
		}
		f.Since = since
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxReplayLimit {
			return f, fmt.Errorf("limit %s: must be a number from 1 to %d (leave it out to replay every match)", quoteCut(q.Get("limit")), maxReplayLimit)
		}
		f.Limit = n
	}
	f.Target = q.Get("target")
	return f, nil
}

// handleGet serves GET /v1/deliveries/{id}.
func (s *server) handleGet(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	d, err := s.b.Delivery(r.Context(), id)
	if err == nil && d == nil {
		err = fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
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
	force, err := parseForce(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	retry := s.b.Retry
	if x, ok := s.b.(forcer); ok && force {
		retry = x.RetryForced
	}
	s.act(w, r, retry, http.StatusAccepted, "queued")
}

// parseForce reads the optional force parameter of the replay routes.
func parseForce(q url.Values) (bool, error) {
	if !q.Has("force") {
		return false, nil
	}
	force, err := strconv.ParseBool(q.Get("force"))
	if err != nil || len(q["force"]) > 1 {
		return false, fmt.Errorf("force %s: must be true or false (given once)", quoteCut(q.Get("force")))
	}
	return force, nil
}

// cmpOrErr returns the first non-nil error.
func cmpOrErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// handleDiscard serves POST /v1/deliveries/{id}/discard.
func (s *server) handleDiscard(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, s.b.Discard, http.StatusOK, "discarded")
}

// act runs an operator action on the delivery named in the path and
// answers {"id":…,"status":…}.
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
	id, err := parseID(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("delivery id %s: must be a positive integer", quoteCut(raw)))
		return 0, false
	}
	return id, true
}

// parseID parses a delivery id: a positive decimal integer.
func parseID(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, strconv.ErrSyntax
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err == nil && id < 1 {
		err = strconv.ErrRange
	}
	return id, err
}

func notFoundMsg(id int64) string { return fmt.Sprintf("delivery %d not found", id) }

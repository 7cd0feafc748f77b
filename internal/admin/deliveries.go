package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui"
	hookrt "github.com/hookrt/hookd/runtime"
)

// pageSize is how many deliveries a list page shows.
const pageSize = 50

// Bounds of what the filters accept.
const (
	maxNameLen  = 255 // a target name, an EVENT_ID, a session id
	maxSinceLen = 64
)

// listForm is the filter form as the operator filled it in, to show it
// filled in again.
type listForm struct {
	State, Target, EventID, Since, Before string
}

// parseList reads the filters of a deliveries list from its query:
// state, target, event_id, since and before (the paging cursor). Empty
// fields select everything; other parameters are ignored.
func parseList(q url.Values, now time.Time) (hook.DeliveryFilter, listForm, error) {
	form := listForm{State: q.Get("state"), Target: strings.TrimSpace(q.Get("target")),
		EventID: strings.TrimSpace(q.Get("event_id")), Since: strings.TrimSpace(q.Get("since")), Before: q.Get("before")}
	f := hook.DeliveryFilter{Target: form.Target, EventID: form.EventID, Limit: pageSize + 1}
	if form.State != "" {
		f.State = hook.DeliveryState(form.State)
		if !f.State.Valid() {
			return f, form, fmt.Errorf("state %q is not one of %s", webui.Cut(form.State, 32), stateNames())
		}
	}
	if len(form.Target) > maxNameLen {
		return f, form, fmt.Errorf("target is %d bytes long; a target name is at most %d", len(form.Target), maxNameLen)
	}
	if len(form.EventID) > maxNameLen {
		return f, form, fmt.Errorf("event id is %d bytes long; an EVENT_ID is at most %d", len(form.EventID), maxNameLen)
	}
	if form.Since != "" {
		since, err := parseSince(form.Since, now)
		if err != nil {
			return f, form, err
		}
		f.Since = since
	}
	if form.Before != "" {
		id, err := parseID(form.Before)
		if err != nil {
			return f, form, fmt.Errorf("before %q: must be a delivery id (a positive integer)", webui.Cut(form.Before, 32))
		}
		f.BeforeID = id
	}
	return f, form, nil
}

// sinceLayouts are the times "since" accepts besides RFC 3339: what a
// datetime-local input sends, and shorter forms, all in UTC.
var sinceLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// parseSince reads a "since" filter: a duration back from now ("90m",
// "24h"), an RFC 3339 time, or a date and time in UTC.
func parseSince(s string, now time.Time) (time.Time, error) {
	if len(s) <= maxSinceLen {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return now.Add(-d), nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		for _, layout := range sinceLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("since %q: must be a duration back from now (90m, 24h), "+
		"an RFC 3339 time (2026-11-29T10:00:00Z) or a UTC date and time (2026-11-29 10:00)", webui.Cut(s, 32))
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

// stateNames lists the delivery states, for messages.
func stateNames() string {
	names := make([]string, len(hook.DeliveryStates))
	for i, st := range hook.DeliveryStates {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// listData is what the deliveries and dead-letters pages show.
type listData struct {
	Dead       bool // the dead-letters page: state is fixed
	Form       listForm
	Error      string // a filter that was refused
	States     []hook.DeliveryState
	Targets    []string
	Deliveries []hook.Delivery
	// Older pages on; Newest goes back to the first page.
	Older, Newest string
	// ReplayStates are the states a bulk replay takes.
	ReplayStates []hook.DeliveryState
	Summary      summary
}

// handleDeliveries serves the list of deliveries, with the live chart.
func (s *server) handleDeliveries(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	s.list(w, r, se, false)
}

// handleDead serves the dead letters: the list with state dead.
func (s *server) handleDead(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	s.list(w, r, se, true)
}

func (s *server) list(w http.ResponseWriter, r *http.Request, se *webui.Session, dead bool) {
	q := r.URL.Query()
	if dead {
		q.Set("state", string(hook.StateDead))
	}
	title, nav, path := "Deliveries", "deliveries", "/admin/"
	if dead {
		title, nav, path = "Dead letters", "dead", "/admin/dead"
	}
	v := s.site.NewView(r, se, title, nav)
	d := listData{Dead: dead, States: hook.DeliveryStates,
		ReplayStates: []hook.DeliveryState{hook.StateDead, hook.StateDiscarded, hook.StateRetrying}}
	f, form, err := parseList(q, time.Now())
	d.Form = form
	status := http.StatusOK
	if err != nil {
		d.Error, status = err.Error(), http.StatusBadRequest
	} else {
		ds, err := s.b.ListDeliveries(r.Context(), f)
		if err != nil {
			s.site.BackendError(w, r, err)
			return
		}
		if len(ds) > pageSize {
			ds = ds[:pageSize]
			d.Older = pageURL(path, form, ds[len(ds)-1].ID, dead)
		}
		if form.Before != "" {
			d.Newest = pageURL(path, form, 0, dead)
		}
		d.Deliveries = ds
	}
	d.Targets = s.targetNames(r, form.Target)
	if !dead {
		d.Summary = summarize(s.b.Stats())
	}
	v.Data = d
	s.site.Render(w, r, status, "deliveries", v)
}

// pageURL is the list at path with form's filters, before the id given
// (0: the first page).
func pageURL(path string, form listForm, before int64, dead bool) string {
	q := url.Values{}
	if form.State != "" && !dead {
		q.Set("state", form.State)
	}
	for k, v := range map[string]string{"target": form.Target, "event_id": form.EventID, "since": form.Since} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// targetNames lists the targets for the filter's menu, with selected
// among them even when it is not configured (any more); nil when they
// cannot be had, and the menu becomes a text field.
func (s *server) targetNames(r *http.Request, selected string) []string {
	ts, err := s.b.TargetStatuses(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "admin: listing targets for the filter", "error", err)
		return nil
	}
	names := make([]string, 0, len(ts)+1)
	for _, t := range ts {
		names = append(names, t.Name)
	}
	if selected != "" && !slices.Contains(names, selected) {
		names = append(names, selected)
	}
	return names
}

// deliveryData is what the page of one delivery shows.
type deliveryData struct {
	D          *hook.Delivery
	Held       string
	CanRetry   bool
	CanDiscard bool
}

// handleDelivery serves one delivery with its event and every attempt.
func (s *server) handleDelivery(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("Delivery id %q: must be a positive integer.", webui.Cut(r.PathValue("id"), 32)))
		return
	}
	d, err := s.b.Delivery(r.Context(), id)
	if err == nil && d == nil {
		err = fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		s.site.BackendError(w, r, err)
		return
	}
	v := s.site.NewView(r, se, fmt.Sprintf("Delivery %d", id), "deliveries")
	v.Data = deliveryData{D: d, Held: d.Held,
		CanRetry: d.State != hook.StateDelivered, CanDiscard: d.State.Live() || d.State == hook.StateDead}
	s.site.Render(w, r, http.StatusOK, "delivery", v)
}

// handleRetry replays one delivery; one of a disabled or paused target
// only once the operator confirms (force).
func (s *server) handleRetry(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	retry := s.b.Retry
	if forced(r) {
		retry = s.b.RetryForced
	}
	s.deliveryAction(w, r, se, "replayed", "is queued for another attempt", retry)
}

// handleDiscard discards one delivery.
func (s *server) handleDiscard(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	s.deliveryAction(w, r, se, "discarded", "is discarded", s.b.Discard)
}

func (s *server) deliveryAction(w http.ResponseWriter, r *http.Request, se *webui.Session, verb, outcome string,
	do func(ctx context.Context, id int64) error,
) {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("Delivery id %q: must be a positive integer.", webui.Cut(r.PathValue("id"), 32)))
		return
	}
	err = do(r.Context(), id)
	if err == nil {
		s.log.InfoContext(r.Context(), "admin: delivery "+verb, "delivery", id, "remote", r.RemoteAddr)
	}
	if errors.Is(err, hookrt.ErrReplayRefused) {
		s.confirm(w, r, se, err, fmt.Sprintf("/admin/deliveries/%d/retry", id), nil,
			s.site.Back(r, fmt.Sprintf("/admin/deliveries/%d", id)))
		return
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Delivery %d %s.", id, outcome), fmt.Sprintf("/admin/deliveries/%d", id))
}

// handleReplay replays every delivery the form selects: state (dead,
// discarded or retrying; dead when empty), target and since.
func (s *server) handleReplay(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	form := r.PostForm
	f := hook.DeliveryFilter{State: hook.DeliveryState(form.Get("state")), Target: strings.TrimSpace(form.Get("target"))}
	var err error
	switch {
	case f.State == "":
		f.State = hook.StateDead
	case f.State != hook.StateDead && f.State != hook.StateDiscarded && f.State != hook.StateRetrying:
		err = fmt.Errorf("state %q: a replay takes dead, discarded or retrying deliveries", webui.Cut(string(f.State), 32))
	}
	if err == nil && len(f.Target) > maxNameLen {
		err = fmt.Errorf("target is %d bytes long; a target name is at most %d", len(f.Target), maxNameLen)
	}
	if since := strings.TrimSpace(form.Get("since")); err == nil && since != "" {
		f.Since, err = parseSince(since, time.Now())
	}
	if err != nil {
		s.site.Sessions.SetFlash(se, webui.Flash{Text: "Nothing replayed: " + err.Error() + ".", Error: true})
		http.Redirect(w, r, s.site.Back(r, "/admin/dead"), http.StatusSeeOther)
		return
	}
	replay := s.b.RetryMatching
	if forced(r) {
		replay = s.b.RetryMatchingForced
	}
	n, err := replay(r.Context(), f)
	if errors.Is(err, hookrt.ErrReplayRefused) {
		fields := []confirmField{{"state", form.Get("state")}, {"target", form.Get("target")}, {"since", form.Get("since")}}
		s.confirm(w, r, se, err, "/admin/deliveries/replay", fields, s.site.Back(r, "/admin/dead"))
		return
	}
	if err == nil {
		s.log.InfoContext(r.Context(), "admin: deliveries replayed", "state", f.State, "target", f.Target,
			"since", f.Since, "count", n, "remote", r.RemoteAddr)
	}
	what := string(f.State)
	if f.Target != "" {
		what += " for " + f.Target
	}
	if !f.Since.IsZero() {
		what += " since " + f.Since.UTC().Format("2006-01-02 15:04:05")
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Replayed %d %s %s.", n, webui.Plural(n, "delivery", "deliveries"), what), "/admin/dead")
}

// forced reports whether the operator confirmed a replay into a disabled
// or paused target (the confirm page's force field).
func forced(r *http.Request) bool { return r.PostForm.Get("force") == "1" }

// confirmField is a field the confirm page posts again.
type confirmField struct{ Name, Value string }

// confirmData is what the confirm page shows: why the replay was refused
// (the backend's words, naming the target's state), and a form that
// posts it again with force, or a way back.
type confirmData struct {
	Message, Action, Back string
	Fields                []confirmField
}

// confirm answers a replay refused because of its target's state with a
// page that says why and asks whether to replay anyway: nothing was
// requeued.
func (s *server) confirm(w http.ResponseWriter, r *http.Request, se *webui.Session, err error, action string, fields []confirmField, backTo string) {
	s.log.InfoContext(r.Context(), "admin: replay refused, asking to confirm", "error", err, "remote", r.RemoteAddr)
	v := s.site.NewView(r, se, "Replay into a target that is not enabled?", "dead")
	v.Data = confirmData{Message: strings.TrimSuffix(err.Error(), ": "+hook.ErrConflict.Error()), Action: action, Back: backTo, Fields: fields}
	s.site.Render(w, r, http.StatusOK, "confirm", v) // a question, not an error: browsers log 4xx pages as errors
}

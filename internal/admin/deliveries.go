package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// pageSize is how many deliveries a list page shows.
const pageSize = 50

// maxNameLen bounds a target name and a session id: the query's bound.
const maxNameLen = ops.MaxNameLen

// listForm is the filter form as the operator filled it in, to show it
// filled in again.
type listForm struct {
	State, Target, EventID, Since, Before string
}

// parseList reads the filters of a deliveries list from its query with
// the operations room's parser (the API's and the CLI's too), ignoring
// the form's other fields, and sets the page's own size.
func parseList(q url.Values, now time.Time) (hook.DeliveryFilter, listForm, error) {
	form := listForm{State: q.Get("state"), Target: strings.TrimSpace(q.Get("target")),
		EventID: strings.TrimSpace(q.Get("event_id")), Since: strings.TrimSpace(q.Get("since")), Before: q.Get("before")}
	f, err := ops.ParseList(q, now, ops.Lax)
	f.Limit = pageSize + 1
	return f, form, err
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
	Summary      ops.Summary
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
	sc := s.scope(se)
	v := s.site.NewView(r, se, title, nav)
	d := listData{Dead: dead, States: hook.DeliveryStates,
		ReplayStates: []hook.DeliveryState{hook.StateDead, hook.StateDiscarded, hook.StateRetrying}}
	f, form, err := parseList(q, time.Now())
	d.Form = form
	status := http.StatusOK
	if err != nil {
		d.Error, status = err.Error(), http.StatusBadRequest
	} else {
		ds, err := sc.Deliveries(r.Context(), f)
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
	// Without the targets, the menu becomes a text field.
	if d.Targets, err = sc.TargetNames(r.Context(), form.Target); err != nil {
		s.log.WarnContext(r.Context(), "admin: listing targets for the filter", "error", err)
	}
	if st, err := sc.Stats(); err == nil && !dead {
		d.Summary = ops.Summarize(st)
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

// deliveryData is what the page of one delivery shows.
type deliveryData struct {
	D          *hook.Delivery
	Held       string
	CanRetry   bool
	CanDiscard bool
}

// deliveryID reads the path's delivery id, answering 400 when it is none.
func (s *server) deliveryID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := ops.ParseID(r.PathValue("id"))
	if err != nil {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("Delivery id %q: must be a positive integer.", webui.Cut(r.PathValue("id"), 32)))
		return 0, false
	}
	return id, true
}

// handleDelivery serves one delivery with its event and every attempt.
func (s *server) handleDelivery(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.deliveryID(w, r)
	if !ok {
		return
	}
	d, err := s.scope(se).Delivery(r.Context(), id)
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
	id, ok := s.deliveryID(w, r)
	if !ok {
		return
	}
	err := s.scope(se).Retry(r.Context(), id, forced(r))
	if err == nil {
		s.log.InfoContext(r.Context(), "admin: delivery replayed", "delivery", id, "remote", r.RemoteAddr)
	}
	if errors.Is(err, engine.ErrReplayRefused) {
		s.confirm(w, r, se, err, fmt.Sprintf("/admin/deliveries/%d/retry", id), nil,
			s.site.Back(r, fmt.Sprintf("/admin/deliveries/%d", id)))
		return
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Delivery %d is queued for another attempt.", id), fmt.Sprintf("/admin/deliveries/%d", id))
}

// handleDiscard discards one delivery.
func (s *server) handleDiscard(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.deliveryID(w, r)
	if !ok {
		return
	}
	err := s.scope(se).Discard(r.Context(), id)
	if err == nil {
		s.log.InfoContext(r.Context(), "admin: delivery discarded", "delivery", id, "remote", r.RemoteAddr)
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Delivery %d is discarded.", id), fmt.Sprintf("/admin/deliveries/%d", id))
}

// handleReplay replays every delivery the form selects: state (dead,
// discarded or retrying; dead when empty), target and since, read by the
// operations room's parser.
func (s *server) handleReplay(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	form := r.PostForm
	f, force, err := ops.ParseReplay(url.Values{"state": {form.Get("state")}, "target": {form.Get("target")},
		"since": {form.Get("since")}, "force": {form.Get("force")}}, time.Now(), ops.Lax)
	if err != nil {
		s.site.Sessions.SetFlash(se, webui.Flash{Text: "Nothing replayed: " + err.Error() + ".", Error: true})
		http.Redirect(w, r, s.site.Back(r, "/admin/dead"), http.StatusSeeOther)
		return
	}
	n, err := s.scope(se).Replay(r.Context(), f, force)
	if errors.Is(err, engine.ErrReplayRefused) {
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

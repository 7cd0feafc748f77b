package portal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// pageSize is how many deliveries a list page shows.
const pageSize = 50

// listForm is the filter form as the owner filled it in, to show it
// filled in again.
type listForm struct{ State, EventID, Since, Before string }

// listData is what the deliveries and dead-letters pages show.
type listData struct {
	Dead       bool
	Form       listForm
	Error      string
	States     []hook.DeliveryState
	Deliveries []hook.Delivery
	// Older pages on; Newest goes back to the first page.
	Older, Newest string
	ReplayStates  []hook.DeliveryState
	// Summary is the domain's deliveries by state and plugin calls by
	// outcome; nil when it cannot be had.
	Summary *hook.DomainSummary
}

// handleDeliveries serves the domain's deliveries, newest first, each
// with why it is where it is (held, last error, next attempt).
func (s *server) handleDeliveries(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	s.list(w, r, se, false)
}

// handleDead serves the domain's dead letters.
func (s *server) handleDead(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	s.list(w, r, se, true)
}

func (s *server) list(w http.ResponseWriter, r *http.Request, se *webui.Session, dead bool) {
	q := r.URL.Query()
	q.Del("target") // the domain's own target, always
	q.Del("limit")
	if dead {
		q.Set("state", string(hook.StateDead))
	}
	title, nav, path := "Deliveries", "deliveries", "/portal/"
	if dead {
		title, nav, path = "Dead letters", "dead", "/portal/dead"
	}
	v := s.site.NewView(r, se, title, nav)
	form := listForm{State: q.Get("state"), EventID: strings.TrimSpace(q.Get("event_id")),
		Since: strings.TrimSpace(q.Get("since")), Before: q.Get("before")}
	d := listData{Dead: dead, Form: form, States: hook.DeliveryStates,
		ReplayStates: []hook.DeliveryState{hook.StateDead, hook.StateDiscarded, hook.StateRetrying}}
	status := http.StatusOK
	f, err := ops.ParseList(q, time.Now(), ops.Lax)
	if err != nil {
		d.Error, status = err.Error(), http.StatusBadRequest
	} else {
		f.Limit = pageSize + 1
		ds, err := s.scope(se).Deliveries(r.Context(), f)
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
	if !dead {
		if sum, err := s.b.DomainSummary(r.Context(), se.Who, se.Who.Domain); err == nil {
			d.Summary = &sum
		} else {
			s.log.WarnContext(r.Context(), "portal: domain summary", "domain", se.Who.Domain, "error", err)
		}
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
	for k, v := range map[string]string{"event_id": form.EventID, "since": form.Since} {
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

// deliveryData is what the page of one delivery shows (the template the
// admin page shares).
type deliveryData struct {
	D          *hook.Delivery
	Held       string
	CanRetry   bool
	CanDiscard bool
}

// handleDelivery serves one of the domain's deliveries with its event and
// every attempt; another domain's is not found.
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

// deliveryID reads the path's delivery id, answering 400 when it is none.
func (s *server) deliveryID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := ops.ParseID(r.PathValue("id"))
	if err != nil {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("Delivery id %s: must be a positive integer.", ops.Quote(r.PathValue("id"))))
		return 0, false
	}
	return id, true
}

// handleRetry replays one of the domain's deliveries. A target the
// operator disabled or paused refuses it: the owner cannot override the
// operator, so there is no "replay anyway" here.
func (s *server) handleRetry(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.deliveryID(w, r)
	if !ok {
		return
	}
	err := s.scope(se).Retry(r.Context(), id, false)
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: delivery replayed", "who", se.Who.String(), "delivery", id, "remote", r.RemoteAddr)
	}
	s.done(w, r, se, err, fmt.Sprintf("Delivery %d is queued for another attempt.", id), fmt.Sprintf("/portal/deliveries/%d", id))
}

// handleDiscard discards one of the domain's deliveries.
func (s *server) handleDiscard(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id, ok := s.deliveryID(w, r)
	if !ok {
		return
	}
	err := s.scope(se).Discard(r.Context(), id)
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: delivery discarded", "who", se.Who.String(), "delivery", id, "remote", r.RemoteAddr)
	}
	s.done(w, r, se, err, fmt.Sprintf("Delivery %d is discarded.", id), fmt.Sprintf("/portal/deliveries/%d", id))
}

// handleReplay replays the domain's deliveries in a state (dead,
// discarded or retrying) created since a time.
func (s *server) handleReplay(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	q := url.Values{"state": {r.PostForm.Get("state")}, "since": {r.PostForm.Get("since")}}
	f, _, err := ops.ParseReplay(q, time.Now(), ops.Lax)
	if err != nil {
		s.site.Sessions.SetFlash(se, webui.Flash{Text: "Nothing replayed: " + err.Error() + ".", Error: true})
		http.Redirect(w, r, s.site.Back(r, "/portal/dead"), http.StatusSeeOther)
		return
	}
	n, err := s.scope(se).Replay(r.Context(), f, false)
	if err == nil {
		s.log.InfoContext(r.Context(), "portal: deliveries replayed", "who", se.Who.String(), "state", f.State,
			"since", f.Since, "count", n, "remote", r.RemoteAddr)
	}
	what := string(f.State)
	if !f.Since.IsZero() {
		what += " since " + f.Since.UTC().Format("2006-01-02 15:04:05")
	}
	s.done(w, r, se, err, fmt.Sprintf("Replayed %d %s %s.", n, webui.Plural(n, "delivery", "deliveries"), what), "/portal/dead")
}

// sessionData is what the page of a session's record shows.
type sessionData struct {
	ID     string
	Error  string
	Events []hook.SessionEvent
	Asked  bool
}

// handleSessions serves a session's record as the domain sees it: the
// events that went to its target, with its target's outcome only. A
// session with none of them is as if unknown.
func (s *server) handleSessions(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	v := s.site.NewView(r, se, "Sessions", "sessions")
	d := sessionData{ID: id}
	status := http.StatusOK
	switch {
	case id == "":
	case len(id) > ops.MaxNameLen:
		d.Error, status = fmt.Sprintf("A session id is at most %d bytes long; this one is %d.", ops.MaxNameLen, len(id)), http.StatusBadRequest
	default:
		evs, err := s.scope(se).SessionEvents(r.Context(), id)
		if err != nil && !errors.Is(err, hook.ErrNotFound) {
			s.site.BackendError(w, r, err)
			return
		}
		if err != nil {
			status = http.StatusNotFound // as a session of no event: nothing says another domain has it
		}
		d.Events, d.Asked = evs, true
		v.Title = "Session " + webui.Cut(id, 40)
	}
	v.Data = d
	s.site.Render(w, r, status, "sessions", v)
}

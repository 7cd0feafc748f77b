package webui

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
)

// PageSize is how many deliveries a list page shows.
const PageSize = 50

// ListForm is the filter form as it was filled in, to show it filled in
// again.
type ListForm struct {
	State, Target, EventID, Since, Before string
}

// ParseList reads the filters of a deliveries list from its query with
// the operations room's parser (the API's and the CLI's too), ignoring
// the form's other fields, and sets the page's own size.
func ParseList(q url.Values, now time.Time) (hook.DeliveryFilter, ListForm, error) {
	form := ListForm{State: q.Get("state"), Target: strings.TrimSpace(q.Get("target")),
		EventID: strings.TrimSpace(q.Get("event_id")), Since: strings.TrimSpace(q.Get("since")), Before: q.Get("before")}
	f, err := ops.ParseList(q, now, ops.Lax)
	f.Limit = PageSize + 1
	return f, form, err
}

// PageURL is the list at path with form's filters, before the id given
// (0: the first page).
func PageURL(path string, form ListForm, before int64, dead bool) string {
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

// ListData is what the deliveries and dead-letters pages show (the
// template "delivery-list").
type ListData struct {
	// Scoped is one domain's list: no target filter or column.
	Scoped bool
	// Dead is the dead-letters page: the state is fixed.
	Dead bool
	Form ListForm
	// Error is a filter that was refused.
	Error      string
	States     []hook.DeliveryState
	Targets    []string
	Deliveries []hook.Delivery
	// Older pages on; Newest goes back to the first page.
	Older, Newest string
	// ReplayStates are the states a bulk replay takes.
	ReplayStates []hook.DeliveryState
	// Summary is the site's overview above the list (its own template
	// shows it); nil when there is none.
	Summary any
}

// TargetChoice is what the template "target-choice" shows.
type TargetChoice struct {
	Targets     []string
	Any, Chosen string
}

// DeliveryData is what the page of one delivery shows (the template
// "delivery-body").
type DeliveryData struct {
	D          *hook.Delivery
	Held       string
	CanRetry   bool
	CanDiscard bool
}

// NewDeliveryData is the page of d, with the buttons its state allows.
func NewDeliveryData(d *hook.Delivery) DeliveryData {
	return DeliveryData{D: d, Held: d.Held,
		CanRetry: d.State != hook.StateDelivered, CanDiscard: d.State.Live() || d.State == hook.StateDead}
}

// SessionData is what the page of a session's record shows.
type SessionData struct {
	// Scoped is one domain's view of the record.
	Scoped bool
	ID     string
	Error  string
	Events []hook.SessionEvent
	// Asked: an id was given; say so when the record is empty.
	Asked bool
}

// ConfirmField is a field a confirm page posts again.
type ConfirmField struct{ Name, Value string }

// DeliveriesOptions configure [NewDeliveries].
type DeliveriesOptions struct {
	// Scope is the operations room as a session's principal sees it.
	Scope func(*Session) ops.Scope
	// Scoped is a site of one domain (the portal): no target filter or
	// column, no replay forced past the operator's disabling or pausing
	// of the target, and a delivery or session the domain does not have
	// is a 404 page, exactly as one that exists nowhere.
	Scoped bool
	// Summary returns the overview shown above the deliveries list (not
	// the dead letters); nil, or a nil answer, shows none.
	Summary func(r *http.Request, se *Session) any
	// Confirm answers a replay the backend refused for its target's state
	// (engine.ErrReplayRefused) with a page asking whether to replay
	// anyway, which posts fields to action again with force; nil: the
	// refusal is a message, as any conflict.
	Confirm func(w http.ResponseWriter, r *http.Request, se *Session, err error, action string, fields []ConfirmField, back string)
}

// Deliveries are the delivery-log pages of a site over the operations
// room: the list and the dead letters, one delivery with its retry and
// discard, the bulk replay and a session's record. The admin page and the
// portal differ only in their scope (the operator's, one domain's) and
// in what their [DeliveriesOptions] say.
type Deliveries struct {
	s *Site
	o DeliveriesOptions
}

// NewDeliveries returns the delivery-log pages of s.
func NewDeliveries(s *Site, o DeliveriesOptions) *Deliveries { return &Deliveries{s: s, o: o} }

// The menu entries of the delivery-log pages, for a site's
// [Options.Menu].
var (
	MenuDeliveries = MenuItem{Path: "", Nav: "deliveries", Label: "Deliveries"}
	MenuDead       = MenuItem{Path: "dead", Nav: "dead", Label: "Dead letters"}
	MenuSessions   = MenuItem{Path: "sessions", Nav: "sessions", Label: "Sessions"}
)

// Route is one pattern of a site and its handler.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

// Routes are the delivery-log pages' routes under the site's prefix, in
// the order both sites list them.
func (d *Deliveries) Routes() []Route {
	p, m := d.s.prefix, d.s
	return []Route{
		{"GET " + p + "{$}", m.Page(d.handleDeliveries)},
		{"GET " + p + "dead", m.Page(d.handleDead)},
		{"GET " + p + "deliveries/{id}", m.Page(d.handleDelivery)},
		{"POST " + p + "deliveries/{id}/retry", m.Action(d.handleRetry)},
		{"POST " + p + "deliveries/{id}/discard", m.Action(d.handleDiscard)},
		{"POST " + p + "deliveries/replay", m.Action(d.handleReplay)},
		{"GET " + p + "sessions", m.Page(d.handleSessions)},
	}
}

// done ends an action as [Site.Done] does; on a scoped site a resource
// the domain does not have is a 404 page, so that the answer does not
// tell it from one that exists nowhere.
func (d *Deliveries) done(w http.ResponseWriter, r *http.Request, se *Session, err error, ok, fallback string) {
	if d.o.Scoped && errors.Is(err, hook.ErrNotFound) {
		d.s.BackendError(w, r, err)
		return
	}
	d.s.Done(w, r, se, err, ok, fallback)
}

func (d *Deliveries) handleDeliveries(w http.ResponseWriter, r *http.Request, se *Session) {
	d.list(w, r, se, false)
}

func (d *Deliveries) handleDead(w http.ResponseWriter, r *http.Request, se *Session) {
	d.list(w, r, se, true)
}

// list serves the deliveries, newest first, each with why it is where it
// is (held, last error, next attempt); dead: only the dead letters.
func (d *Deliveries) list(w http.ResponseWriter, r *http.Request, se *Session, dead bool) {
	s := d.s
	q := r.URL.Query()
	if d.o.Scoped {
		q.Del("target") // the domain's own target, always
		q.Del("limit")
	}
	if dead {
		q.Set("state", string(hook.StateDead))
	}
	title, nav, path := "Deliveries", "deliveries", s.prefix
	if dead {
		title, nav, path = "Dead letters", "dead", s.prefix+"dead"
	}
	sc := d.o.Scope(se)
	v := s.NewView(r, se, title, nav)
	data := ListData{Scoped: d.o.Scoped, Dead: dead, States: hook.DeliveryStates,
		ReplayStates: []hook.DeliveryState{hook.StateDead, hook.StateDiscarded, hook.StateRetrying}}
	f, form, err := ParseList(q, time.Now())
	data.Form = form
	status := http.StatusOK
	if err != nil {
		data.Error, status = err.Error(), http.StatusBadRequest
	} else {
		ds, err := sc.Deliveries(r.Context(), f)
		if err != nil {
			s.BackendError(w, r, err)
			return
		}
		if len(ds) > PageSize {
			ds = ds[:PageSize]
			data.Older = PageURL(path, form, ds[len(ds)-1].ID, dead)
		}
		if form.Before != "" {
			data.Newest = PageURL(path, form, 0, dead)
		}
		data.Deliveries = ds
	}
	if !d.o.Scoped {
		// Without the targets, the menu becomes a text field.
		if data.Targets, err = sc.TargetNames(r.Context(), form.Target); err != nil {
			s.log.WarnContext(r.Context(), s.name+": listing targets for the filter", "error", err)
		}
	}
	if !dead && d.o.Summary != nil {
		data.Summary = d.o.Summary(r, se)
	}
	v.Data = data
	s.Render(w, r, status, "deliveries", v)
}

// PathNumber reads the path's parameter name as a positive integer,
// answering 400 naming what (e.g. "Delivery id") when it is none.
func (s *Site) PathNumber(w http.ResponseWriter, r *http.Request, name, what string) (int64, bool) {
	n, err := ops.ParseID(r.PathValue(name))
	if err != nil {
		s.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("%s %s: must be a positive integer.", what, ops.Quote(r.PathValue(name))))
		return 0, false
	}
	return n, true
}

// handleDelivery serves one delivery with its event and every attempt;
// one outside the scope is not found.
func (d *Deliveries) handleDelivery(w http.ResponseWriter, r *http.Request, se *Session) {
	id, ok := d.s.PathNumber(w, r, "id", "Delivery id")
	if !ok {
		return
	}
	x, err := d.o.Scope(se).Delivery(r.Context(), id)
	if err != nil {
		d.s.BackendError(w, r, err)
		return
	}
	v := d.s.NewView(r, se, fmt.Sprintf("Delivery %d", id), "deliveries")
	v.Data = NewDeliveryData(x)
	d.s.Render(w, r, http.StatusOK, "delivery", v)
}

// forced reports whether the replay was confirmed into a disabled or
// paused target (the confirm page's force field); never on a scoped
// site: a domain's owner cannot override the operator.
func (d *Deliveries) forced(r *http.Request) bool {
	return !d.o.Scoped && r.PostForm.Get("force") == "1"
}

// handleRetry replays one delivery.
func (d *Deliveries) handleRetry(w http.ResponseWriter, r *http.Request, se *Session) {
	id, ok := d.s.PathNumber(w, r, "id", "Delivery id")
	if !ok {
		return
	}
	page := fmt.Sprintf("%sdeliveries/%d", d.s.prefix, id)
	err := d.o.Scope(se).Retry(r.Context(), id, d.forced(r))
	if err == nil {
		d.s.log.InfoContext(r.Context(), d.s.name+": delivery replayed", "who", se.Who.String(), "delivery", id, "remote", r.RemoteAddr)
	}
	if errors.Is(err, engine.ErrReplayRefused) && d.o.Confirm != nil {
		d.o.Confirm(w, r, se, err, page+"/retry", nil, d.s.Back(r, page))
		return
	}
	d.done(w, r, se, err, fmt.Sprintf("Delivery %d is queued for another attempt.", id), page)
}

// handleDiscard discards one delivery.
func (d *Deliveries) handleDiscard(w http.ResponseWriter, r *http.Request, se *Session) {
	id, ok := d.s.PathNumber(w, r, "id", "Delivery id")
	if !ok {
		return
	}
	err := d.o.Scope(se).Discard(r.Context(), id)
	if err == nil {
		d.s.log.InfoContext(r.Context(), d.s.name+": delivery discarded", "who", se.Who.String(), "delivery", id, "remote", r.RemoteAddr)
	}
	d.done(w, r, se, err, fmt.Sprintf("Delivery %d is discarded.", id), fmt.Sprintf("%sdeliveries/%d", d.s.prefix, id))
}

// handleReplay replays every delivery the form selects: state (dead,
// discarded or retrying; dead when empty), target (not on a scoped site)
// and since, read by the operations room's parser.
func (d *Deliveries) handleReplay(w http.ResponseWriter, r *http.Request, se *Session) {
	s, form, back := d.s, r.PostForm, d.s.prefix+"dead"
	q := url.Values{"state": {form.Get("state")}, "since": {form.Get("since")}}
	fields := []ConfirmField{{"state", form.Get("state")}, {"since", form.Get("since")}}
	if !d.o.Scoped {
		q.Set("target", form.Get("target"))
		fields = []ConfirmField{fields[0], {"target", form.Get("target")}, fields[1]}
	}
	f, _, err := ops.ParseReplay(q, time.Now(), ops.Lax)
	if err != nil {
		s.Sessions.SetFlash(se, Flash{Text: "Nothing replayed: " + err.Error() + ".", Error: true})
		http.Redirect(w, r, s.Back(r, back), http.StatusSeeOther)
		return
	}
	n, err := d.o.Scope(se).Replay(r.Context(), f, d.forced(r))
	if errors.Is(err, engine.ErrReplayRefused) && d.o.Confirm != nil {
		d.o.Confirm(w, r, se, err, s.prefix+"deliveries/replay", fields, s.Back(r, back))
		return
	}
	if err == nil {
		s.log.InfoContext(r.Context(), s.name+": deliveries replayed", "who", se.Who.String(), "state", f.State,
			"target", f.Target, "since", f.Since, "count", n, "remote", r.RemoteAddr)
	}
	what := string(f.State)
	if f.Target != "" {
		what += " for " + f.Target
	}
	if !f.Since.IsZero() {
		what += " since " + f.Since.UTC().Format("2006-01-02 15:04:05")
	}
	d.done(w, r, se, err, fmt.Sprintf("Replayed %d %s %s.", n, Plural(n, "delivery", "deliveries"), what), back)
}

// handleSessions serves a session's record: ?id=<SESSIONID> lists its
// events in order, each with its outcome at the targets the scope sees.
// On a scoped site a session with none of the domain's events is as if
// unknown (404), whether or not another domain has it.
func (d *Deliveries) handleSessions(w http.ResponseWriter, r *http.Request, se *Session) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	v := d.s.NewView(r, se, "Sessions", "sessions")
	data := SessionData{Scoped: d.o.Scoped, ID: id}
	status := http.StatusOK
	switch {
	case id == "":
	case len(id) > ops.MaxNameLen:
		data.Error, status = fmt.Sprintf("A session id is at most %d bytes long; this one is %d.", ops.MaxNameLen, len(id)), http.StatusBadRequest
	default:
		evs, err := d.o.Scope(se).SessionEvents(r.Context(), id)
		if err != nil && !(d.o.Scoped && errors.Is(err, hook.ErrNotFound)) {
			d.s.BackendError(w, r, err)
			return
		}
		if err != nil {
			status = http.StatusNotFound
		}
		data.Events, data.Asked = evs, true
		v.Title = "Session " + Cut(id, 40)
	}
	v.Data = data
	d.s.Render(w, r, status, "sessions", v)
}

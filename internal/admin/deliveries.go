package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui"
)

// The delivery log's pages (the list, the dead letters, one delivery, its
// retry and discard, the bulk replay, a session's record) are the ones
// the portal shows too: [webui.Deliveries], over the operator's scope.
// What is the admin page's own is the overview above the list (the live
// chart) and the page that asks before replaying into a target the
// operator disabled or paused.

// pageSize is how many deliveries a list page shows.
const pageSize = webui.PageSize

// maxNameLen bounds a target name and a session id: the query's bound.
const maxNameLen = ops.MaxNameLen

// parseList reads the filters of a deliveries list as the page does.
func parseList(q url.Values, now time.Time) (hook.DeliveryFilter, webui.ListForm, error) {
	return webui.ParseList(q, now)
}

// summary is the overview above the deliveries: this node's last five
// minutes (the chart's numbers).
func (s *server) summary(_ *http.Request, se *webui.Session) any {
	st, err := s.scope(se).Stats()
	if err != nil {
		return ops.Summary{}
	}
	return ops.Summarize(st)
}

// confirmData is what the confirm page shows: why the action was not
// done yet (a refused replay: the backend's words, naming the target's
// state), and a form that posts it again with force, or a way back.
// Nothing and Button default to the replay's words; deleting a domain
// asks through the same page.
type confirmData struct {
	Message, Action, Back string
	Fields                []webui.ConfirmField
	Nothing, Button       string
}

// confirm answers a replay refused because of its target's state with a
// page that says why and asks whether to replay anyway: nothing was
// requeued.
func (s *server) confirm(w http.ResponseWriter, r *http.Request, se *webui.Session, err error, action string, fields []webui.ConfirmField, backTo string) {
	s.log.InfoContext(r.Context(), "admin: replay refused, asking to confirm", "error", err, "remote", r.RemoteAddr)
	v := s.site.NewView(r, se, "Replay into a target that is not enabled?", "dead")
	v.Data = confirmData{Message: strings.TrimSuffix(err.Error(), ": "+hook.ErrConflict.Error()), Action: action, Back: backTo, Fields: fields}
	s.site.Render(w, r, http.StatusOK, "confirm", v) // a question, not an error: browsers log 4xx pages as errors
}

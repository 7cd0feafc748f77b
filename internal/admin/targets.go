package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui"
)

// maxReason bounds the reason an operator gives for disabling or pausing
// a target.
const maxReason = 500

// handleTargets serves the targets: their state and why, breaker, load,
// what waits for them and their last error, with the buttons that change
// their state.
func (s *server) handleTargets(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	ts, err := s.b.TargetStatuses(r.Context())
	if err != nil {
		s.site.BackendError(w, r, err)
		return
	}
	v := s.site.NewView(r, se, "Targets", "targets")
	v.Data = ts
	s.site.Render(w, r, http.StatusOK, "targets", v)
}

// handleTargetAction changes a target's state: the form's name, action
// (disable, pause, enable or resume) and, for disable and pause, an
// optional reason.
func (s *server) handleTargetAction(w http.ResponseWriter, r *http.Request, se *webui.Session) {
	form := r.PostForm
	name, action := form.Get("name"), form.Get("action")
	reason := strings.TrimSpace(form.Get("reason"))
	if name == "" || len(name) > maxNameLen {
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("The target name must be 1 to %d bytes long.", maxNameLen))
		return
	}
	if len(reason) > maxReason {
		s.site.Sessions.SetFlash(se, webui.Flash{Text: fmt.Sprintf("The reason is %d bytes long; at most %d are kept. Nothing changed.", len(reason), maxReason), Error: true})
		http.Redirect(w, r, s.site.Back(r, "/admin/targets"), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	var err error
	var outcome string
	switch action {
	case "disable":
		err, outcome = s.b.DisableTarget(ctx, name, orDefault(reason, "disabled by an operator")), hook.TargetDisabled
	case "pause":
		err, outcome = s.b.PauseTarget(ctx, name, orDefault(reason, "paused by an operator")), hook.TargetPaused
	case "enable":
		err, outcome = s.b.EnableTarget(ctx, name), hook.TargetEnabled
	case "resume":
		err, outcome = s.b.ResumeTarget(ctx, name), "resumed"
	default:
		s.site.ErrorPage(w, r, http.StatusBadRequest, fmt.Sprintf("No action %q: use disable, pause, enable or resume.", webui.Cut(action, 32)))
		return
	}
	if err == nil {
		s.log.InfoContext(ctx, "admin: target "+action, "target", name, "reason", reason, "remote", r.RemoteAddr)
	}
	s.site.Done(w, r, se, err, fmt.Sprintf("Target %s is %s.", name, outcome), "/admin/targets")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

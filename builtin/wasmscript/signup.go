package wasmscript

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// SignupDecider is what a domain's target handler implements when it can
// decide the domain's sign-ups: a *Script does. The runtime asks the
// handler of a domain's target for it, so that TOML and stored plugins
// decide alike.
type SignupDecider interface {
	DecideSignup(ctx context.Context, fields map[string]string) (hook.SignupDecision, error)
}

var _ SignupDecider = (*Script)(nil)

// signupEventID stands for the event id in the log lines of a sign-up
// decision (the plugin log ring and the daemon's log), which has none.
const signupEventID = "signup"

// DecideSignup asks the plugin's hookd_v1_on_signup whether a sign-up
// with fields (hostapi.SignupUsername, …; never the password) is allowed,
// while the user waits: within the plugin's timeout and ctx's deadline.
//
//	d, err := s.DecideSignup(ctx, map[string]string{"username": "ann", "domain": "acme", "email": "ann@acme.example"})
//	if err != nil || d.Decided && !d.Allow { /* refuse; d.Reason for the user */ }
//
// # Notes
//
//   - A plugin without the export, or that abstains: Decided false, no
//     error, and nothing counted.
//   - An error means the plugin could not decide (a trap, its deadline,
//     no free instance in time, a status other than allow, refuse or
//     abstain): the caller refuses the sign-up (fail closed). The error
//     names the plugin and says why.
//   - The call's log lines go where an event's go (the daemon's log and
//     the domain's plugin log ring), with event_id "signup"; the call is
//     counted among the plugin's calls by outcome.
func (s *Script) DecideSignup(ctx context.Context, fields map[string]string) (hook.SignupDecision, error) {
	if !s.p.HasSignup() {
		return hook.SignupDecision{}, nil
	}
	out, err := s.p.CallSignup(ctx, fields)
	s.forwardLogs(ctx, &hook.Event{ID: signupEventID}, out.Logs)
	outcome := hook.PluginOK
	defer func() {
		s.tally(outcome, out.Duration)
		s.tallyHostCalls(out.HostCalls)
	}()
	if err != nil {
		outcome = callOutcome(err)
		return hook.SignupDecision{}, fmt.Errorf("plugin %s: %s: %w", s.Path(), hostapi.SignupExport, err)
	}
	decided, allow, reason, err := wasmhost.SignupVerdict(out)
	if err != nil {
		outcome = hook.PluginRefused
		return hook.SignupDecision{}, fmt.Errorf("plugin %s: %w", s.Path(), err)
	}
	if decided {
		s.log.Log(ctx, slog.LevelDebug, "plugin decided a sign-up", slog.String("domain", s.spec.Domain),
			slog.Bool("allow", allow), slog.String("reason", reason), slog.Duration("guest", out.Duration.Round(time.Microsecond)))
	}
	return hook.SignupDecision{Decided: decided, Allow: allow, Reason: reason}, nil
}

// SignupFields are a dry run's sign-up as the plugin reads it (the names
// of hostapi.SignupUsername, …), the fields the daemon's sign-up path
// hands it; an empty language is passed empty.
func SignupFields(su hook.DryRunSignup) map[string]string {
	return map[string]string{
		hostapi.SignupUsername: su.Username, hostapi.SignupDomain: su.Domain, hostapi.SignupEmail: su.Email,
		hostapi.SignupFullName: su.FullName, hostapi.SignupLanguage: su.Language,
	}
}

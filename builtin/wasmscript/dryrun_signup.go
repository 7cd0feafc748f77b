package wasmscript

import (
	"context"
	"fmt"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// Sign-ups in a dry run (issue 17): a domain owner asks a candidate's
// hookd_v1_on_signup about sign-ups before activating it, as the events
// are run, with nothing counted or kept.

// drySignup asks the candidate about one sign-up and reports what it
// decided, as [Script.DecideSignup] would judge it, with the call's logs,
// host calls, guest time and memory.
func (s *Script) drySignup(ctx context.Context, su hook.DryRunSignup, st *stubber) hook.DryRunSignupResult {
	r := hook.DryRunSignupResult{Signup: su}
	if !s.p.HasSignup() {
		r.Decision = hook.DryRunNoExport
		r.Error = fmt.Sprintf("the module has no %s export: it is never asked, and the External WebAPI decides the domain's sign-ups", hostapi.SignupExport)
		return r
	}
	st.reset()
	out, memory, err := callSignupMeasured(ctx, s.p, SignupFields(su))
	r.Duration, r.Memory = out.Duration, memory
	r.Logs, r.HostCalls = dryLogs(out.Logs), dryHostCalls(out.HostCalls, st)
	if err != nil {
		r.Decision, r.Error = hook.DryRunError, fmt.Sprintf("%s: %v (the sign-up would be refused as unavailable)", hostapi.SignupExport, err)
		return r
	}
	r.Status = out.Status
	decided, allow, reason, err := wasmhost.SignupVerdict(out)
	switch {
	case err != nil:
		r.Decision, r.Error = hook.DryRunError, err.Error()+" (the sign-up would be refused as unavailable)"
	case !decided:
		r.Decision = hook.DryRunAbstain
	case allow:
		r.Decision = hook.DryRunAllow
	default:
		r.Decision, r.Reason = hook.DryRunRefuse, reason
	}
	return r
}

// signupMeasurer is a plugin that measures a sign-up call's memory as
// CallMeasured measures an event's (a wasmhost that has
// CallSignupMeasured; see /work/notes/D.md).
type signupMeasurer interface {
	CallSignupMeasured(ctx context.Context, fields map[string]string) (wasmhost.Outcome, wasmhost.CallStats, error)
}

// callSignupMeasured calls p's hookd_v1_on_signup, measuring its memory
// when p can (0 otherwise).
func callSignupMeasured(ctx context.Context, p *wasmhost.Plugin, fields map[string]string) (wasmhost.Outcome, int64, error) {
	if m, ok := any(p).(signupMeasurer); ok {
		out, stats, err := m.CallSignupMeasured(ctx, fields)
		return out, stats.Memory, err
	}
	out, err := p.CallSignup(ctx, fields)
	return out, 0, err
}

// dryRunSignups carries a dry run's sign-ups to [Host.DryRun] through
// its context, and their results back, while http_events' DryRun, the
// runtime's way to the plugin host, passes events only.
type dryRunSignups struct {
	in  []hook.DryRunSignup
	out []hook.DryRunSignupResult
}

type dryRunSignupsKey struct{}

// WithDryRunSignups returns ctx carrying signups for the next
// [Host.DryRun] made with it (through any module that passes ctx on), and
// a function that returns what the candidate decided on each, once that
// DryRun returned (nil if it never ran them). New code that reaches the
// host should call [Host.DryRunReport] instead.
func WithDryRunSignups(ctx context.Context, signups []hook.DryRunSignup) (context.Context, func() []hook.DryRunSignupResult) {
	d := &dryRunSignups{in: signups}
	return context.WithValue(ctx, dryRunSignupsKey{}, d), func() []hook.DryRunSignupResult { return d.out }
}

func dryRunSignupsFrom(ctx context.Context) *dryRunSignups {
	d, _ := ctx.Value(dryRunSignupsKey{}).(*dryRunSignups)
	return d
}

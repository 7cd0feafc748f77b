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
	out, stats, err := s.p.CallSignupMeasured(ctx, SignupFields(su))
	r.Duration, r.Memory = out.Duration, stats.Memory
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

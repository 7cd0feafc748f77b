package runtime

import (
	"context"

	"github.com/hookrt/hookd/builtin/webapi"
)

// Signup asks the External WebAPI (account/1) whether a user may sign up,
// within the configured call timeout or ctx's deadline, whichever comes
// first: the synchronous call a Go proxy makes while the user waits.
//
//	res, err := rt.Signup(ctx, webapi.SignupRequest{Username: "ann", Domain: "acme", Email: "ann@acme.example"})
//	if err == nil && res.Outcome == webapi.Allowed { /* create the user */ }
//
// # Notes
//
//   - Without a [webapi] section, or with signup off, the outcome is
//     [webapi.NotDelegated]: the proxy decides itself.
//   - A failure to reach the service refuses the sign-up (fail closed);
//     see [webapi.Service.Signup] for every outcome.
func (rt *Runtime) Signup(ctx context.Context, r webapi.SignupRequest) (webapi.SignupResult, error) {
	return rt.webapi().Signup(ctx, r)
}

// ForgotPassword hands a forgotten-password request to the External
// WebAPI. The result is the same whatever happened, so that nobody can
// probe for accounts; see [webapi.Service.ForgotPassword].
func (rt *Runtime) ForgotPassword(ctx context.Context, r webapi.ForgotRequest) (webapi.ForgotResult, error) {
	return rt.webapi().ForgotPassword(ctx, r)
}

// webapi returns the provisioned External WebAPI, or nil without one (a
// nil *webapi.Service answers "not delegated").
func (rt *Runtime) webapi() *webapi.Service {
	s, _ := rt.mods.byID[webapi.ID].(*webapi.Service)
	return s
}

package runtime

import (
	"context"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
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
//   - The plugin of the domain signed up to (r.Domain), when it exports
//     hookd_v1_on_signup, decides before or instead of the service
//     ([webapi] signup_plugin), within the same timeout: a refusal
//     carries its reason in Message; a plugin that cannot decide refuses
//     the sign-up (fail closed).
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

// handlerSource is what the sign-up decider needs of the engine: the
// current handler of a target ([engine.Engine.Handler]).
type handlerSource interface {
	Handler(name string) (hook.Handler, bool)
}

// newSignupDecider returns the [hook.SignupDecider] modules get as
// Env.Signup (the External WebAPI asks it): it finds the domain's plugin
// through the engine, as deliveries do, so that a domain from config.toml
// and a stored one decide alike, and a plugin version activated a moment
// ago decides the next sign-up.
func newSignupDecider(eng handlerSource) hook.SignupDecider { return signupDecider{eng} }

// signupDecider asks the handler of a domain's target, when it can decide
// sign-ups (a WASM plugin: [wasmscript.SignupDecider]).
type signupDecider struct{ eng handlerSource }

// DecideSignup implements [hook.SignupDecider]. A domain that has no
// target on this node, or whose target is a script URL, or whose plugin
// has no hookd_v1_on_signup, is not decided (Decided false): the
// External WebAPI decides.
func (d signupDecider) DecideSignup(ctx context.Context, domain string, fields map[string]string) (hook.SignupDecision, error) {
	if domain == "" {
		return hook.SignupDecision{}, nil
	}
	h, ok := d.eng.Handler(httpevents.DomainTargetPrefix + domain)
	if !ok {
		return hook.SignupDecision{}, nil
	}
	p, ok := h.(wasmscript.SignupDecider)
	if !ok {
		return hook.SignupDecision{}, nil
	}
	return p.DecideSignup(ctx, fields)
}

package pdk

import "github.com/hookrt/hookd/hostapi"

// Sign-up decisions: a plugin may decide, while the user waits, whether a
// sign-up to its domain is allowed (hostapi/ABI.md, "Sign-up decisions").
// Every Go plugin exports hookd_v1_on_signup, because the export lives in
// this package; without a handler set with HandleSignup it abstains, and
// hookd decides as if the plugin had none.

// Signup is the sign-up a decision is about: the fields the External
// WebAPI is sent, never the password. Like an Event, it is valid only
// during the handler call it is passed to.
type Signup struct {
	ev Event
}

// Username is the user name asked for.
func (s *Signup) Username() string { return s.ev.Get(hostapi.SignupUsername) }

// Domain is the DOMAIN_ID signed up to: the plugin's own domain.
func (s *Signup) Domain() string { return s.ev.Get(hostapi.SignupDomain) }

// Email is the user's e-mail address.
func (s *Signup) Email() string { return s.ev.Get(hostapi.SignupEmail) }

// FullName is the user's full name.
func (s *Signup) FullName() string { return s.ev.Get(hostapi.SignupFullName) }

// Language is the user's language, a two-letter ISO 639-1 code.
func (s *Signup) Language() string { return s.ev.Get(hostapi.SignupLanguage) }

// Get returns any field of the sign-up by name, "" when absent.
func (s *Signup) Get(name string) string { return s.ev.Get(name) }

// Decision is a sign-up handler's answer: [Allow], [Refuse] or [Abstain].
// The zero Decision is none of them: hookd refuses the sign-up (fail
// closed) and the plugin's log says why.
type Decision struct {
	status int32
	reason string
	set    bool
}

// Allow allows the sign-up (hookd may still ask the External WebAPI next,
// when its signup_plugin is "before").
func Allow() Decision { return Decision{status: hostapi.SignupAllow, set: true} }

// Refuse refuses the sign-up; reason is shown to the user, as an External
// WebAPI's description is (cut at 1 KiB). An empty reason shows hookd's
// generic refusal.
func Refuse(reason string) Decision {
	return Decision{status: hostapi.SignupRefuse, reason: reason, set: true}
}

// Abstain leaves the decision to hookd, as if the plugin had no sign-up
// handler: the External WebAPI decides, or the proxy.
func Abstain() Decision { return Decision{status: hostapi.SignupAbstain, set: true} }

// CannotDecide says the plugin could not decide (a broken config, state it
// cannot reach): hookd refuses the sign-up with its generic "unavailable"
// message (fail closed), and logs err's text.
func CannotDecide(err error) Decision {
	msg := "pdk: cannot decide the sign-up"
	if err != nil {
		msg = err.Error()
	}
	return Decision{status: statusSignupFailed, reason: msg, set: true}
}

// signupHandler is the plugin's sign-up handler, set by HandleSignup.
var signupHandler func(s *Signup) Decision

// HandleSignup makes fn the plugin's sign-up handler. Call it once, from
// an init function of package main, beside Handle:
//
//	func init() {
//		pdk.Handle(onEvent)
//		pdk.HandleSignup(func(s *pdk.Signup) pdk.Decision {
//			if !strings.HasSuffix(s.Email(), "@example.com") {
//				return pdk.Refuse("Sign-ups are open to example.com addresses only.")
//			}
//			return pdk.Allow()
//		})
//	}
//
// # Notes
//
//   - fn runs while the user waits, within the plugin's timeout and the
//     [webapi] timeout: keep it short.
//   - A panic in fn is recovered and logged; hookd then refuses the
//     sign-up (fail closed), with its generic "unavailable" message.
//   - Package variables are per instance, as for Handle: a count across
//     sign-ups belongs in the state functions (IncrState).
//   - HandleSignup panics when fn is nil or a handler is already set.
func HandleSignup(fn func(s *Signup) Decision) {
	if fn == nil {
		panic("pdk: HandleSignup(nil)")
	}
	if signupHandler != nil {
		panic("pdk: HandleSignup called twice")
	}
	signupHandler = fn
}

// statusSignupFailed is what onSignup returns when the handler panicked:
// none of the three decisions, so that hookd fails closed.
const statusSignupFailed int32 = 3

// onSignup implements hookd_v1_on_signup.
func onSignup() (status int32) {
	if signupHandler == nil {
		return hostapi.SignupAbstain
	}
	defer func() {
		if p := recover(); p != nil {
			panicked(p)
			status = statusSignupFailed
		}
	}()
	d := signupHandler(&Signup{})
	switch {
	case !d.set:
		msg := "pdk: the sign-up handler returned a zero Decision; return pdk.Allow(), pdk.Refuse(reason) or pdk.Abstain()"
		Log(LevelError, msg)
		return fail(statusSignupFailed, msg)
	case d.reason != "":
		setError(d.reason)
	}
	return d.status
}

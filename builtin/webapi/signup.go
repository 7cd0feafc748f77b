package webapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Outcome is what a delegated decision came to.
type Outcome string

// Outcomes of [Service.Signup] and [Service.ForgotPassword].
const (
	// Allowed: the service accepted the request.
	Allowed Outcome = "allowed"
	// Refused: the service refused, or could not be asked (fail closed).
	Refused Outcome = "refused"
	// NotDelegated: the switch is off; the proxy handles the request itself.
	NotDelegated Outcome = "not_delegated"
)

// Message IDs: stable keys a proxy can translate, one per user-facing text.
const (
	MsgSignupOK           = "signup.ok"
	MsgSignupRefused      = "signup.refused"
	MsgSignupUnavailable  = "signup.unavailable"
	MsgSignupNotDelegated = "signup.not_delegated"
	MsgForgotSent         = "password.forgot.sent"
	MsgForgotNotDelegated = "password.forgot.not_delegated"
)

// The English texts of the message IDs.
const (
	TextSignupOK           = "The account has been created."
	TextSignupRefused      = "The sign-up was refused."
	TextSignupUnavailable  = "The sign-up service is unavailable. Please try again later."
	TextSignupNotDelegated = "Sign-up is handled by the proxy."
	TextForgotSent         = "If the account exists, we have sent instructions to reset the password."
	TextForgotNotDelegated = "Forgotten passwords are handled by the proxy."
)

// SignupRequest is a sign-up to decide.
type SignupRequest struct {
	Username, Domain, Email, FullName string
	// Language is the user's language (ISO 639-1, "de-AT" is read as
	// "de"); empty means the configured language.
	Language string
	// Password is sent to the service only when forward_password is on.
	Password string
}

// SignupResult is the decision on a sign-up.
type SignupResult struct {
	Outcome Outcome
	// Message is for the user: the service's description when it refused,
	// a generic text otherwise.
	Message string
	// MessageID is a stable key for Message (see the Msg constants).
	MessageID string
	// Fields are the input fields the service found wrong.
	Fields []string
	// Data is the service's data when it allowed the sign-up.
	Data json.RawMessage
}

// signupBody is what is sent for a sign-up.
type signupBody struct {
	Username string  `json:"username"`
	Domain   string  `json:"domain"`
	Email    string  `json:"email"`
	FullName string  `json:"fullname"`
	Language string  `json:"language"`
	Password *string `json:"password,omitempty"`
}

// Signup asks the service whether the user may sign up.
//
//	res, err := svc.Signup(ctx, webapi.SignupRequest{Username: "ann", Domain: "acme", Email: "ann@acme.example"})
//	if err == nil && res.Outcome == webapi.Allowed { /* create the user */ }
//
// # Notes
//
//   - signup off, or s nil (no [webapi] section): [NotDelegated], and no
//     request is made.
//   - The service's success code: [Allowed], with its data. Another code:
//     [Refused], with its description (or a generic text) and failed
//     fields. A timeout, a transport error, a non-2xx answer or one that
//     is not a JSON1 answer: [Refused] with the generic
//     "signup.unavailable" message (fail closed); the cause is logged and
//     counted in [Service.Stats].
//   - With signup_plugin "before" (the default) or "instead", the
//     domain's plugin is asked first when it exports hookd_v1_on_signup
//     (see [Service.askPlugin]): its refusal is [Refused] with its reason
//     as the message (MsgSignupRefused); a plugin that cannot decide
//     (an error, its deadline) is [Refused] with "signup.unavailable"
//     (fail closed); its allowance is final with "instead", and goes on
//     to the WebAPI with "before".
//   - The whole decision, plugin and WebAPI, ends at the configured
//     timeout or ctx's deadline, whichever comes first.
//   - The error is nil for all of these, which are outcomes; it is
//     non-nil only for a programming error (a call before Provision).
func (s *Service) Signup(ctx context.Context, r SignupRequest) (SignupResult, error) {
	if s == nil { // no [webapi] section
		return SignupResult{Outcome: NotDelegated, Message: TextSignupNotDelegated, MessageID: MsgSignupNotDelegated}, nil
	}
	if s.client == nil {
		return SignupResult{}, ErrNotProvisioned
	}
	if !s.UseSignup {
		s.tally(&s.calls.signup.notDelegated, kindSignup, "not_delegated", time.Time{})
		return SignupResult{Outcome: NotDelegated, Message: TextSignupNotDelegated, MessageID: MsgSignupNotDelegated}, nil
	}
	lang := s.language(r.Language)
	who := slog.Group("user", slog.String("username", r.Username), slog.String("domain", r.Domain))
	if s.asksPlugins() {
		// One budget for the whole decision, the domain's plugin included:
		// the WebAPI gets what the plugin left of the timeout.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
		if res, done := s.askPlugin(ctx, r, lang, who); done {
			return res, nil
		}
	}
	b := signupBody{Username: r.Username, Domain: r.Domain, Email: r.Email, FullName: r.FullName, Language: lang}
	if s.ForwardPassword {
		b.Password = &r.Password
	}
	body, err := json.Marshal(b)
	if err != nil {
		return SignupResult{}, err
	}
	start := time.Now()
	resp, a, err := s.call(ctx, MethodSignup, lang, body, "")
	switch {
	case err != nil:
		s.tally(&s.calls.signup.unavailable, kindSignup, "failed", start)
		s.log.WarnContext(ctx, "sign-up refused: the external WebAPI is unavailable", who,
			slog.Int("status", status(resp)), slog.String("error", err.Error()))
		return SignupResult{Outcome: Refused, Message: TextSignupUnavailable, MessageID: MsgSignupUnavailable}, nil
	case a.OK(s.SuccessCode):
		s.tally(&s.calls.signup.allowed, kindSignup, "ok", start)
		s.log.InfoContext(ctx, "sign-up allowed by the external WebAPI", who, slog.Duration("latency", resp.Latency))
		return SignupResult{Outcome: Allowed, Message: TextSignupOK, MessageID: MsgSignupOK, Data: a.Data}, nil
	}
	s.tally(&s.calls.signup.refused, kindSignup, "refused", start)
	s.log.InfoContext(ctx, "sign-up refused by the external WebAPI", who,
		slog.String("code", a.Code), slog.String("description", a.Description), slog.Any("fields", a.Errors))
	msg := a.Description
	if msg == "" {
		msg = TextSignupRefused
	}
	return SignupResult{Outcome: Refused, Message: msg, MessageID: MsgSignupRefused, Fields: a.Errors}, nil
}

// ForgotRequest is a forgotten-password request.
type ForgotRequest struct {
	Username, Domain, Email string
	// Language is the user's language, as in [SignupRequest].
	Language string
}

// ForgotResult is what the user is told about a forgotten-password
// request: always the same, whatever happened.
type ForgotResult struct {
	Outcome            Outcome
	Message, MessageID string
}

// forgotBody is what is sent for a forgotten password.
type forgotBody struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
	Language string `json:"language"`
}

// ForgotPassword hands a forgotten-password request to the service, which
// sends the user instructions.
//
// # Notes
//
//   - The result is the same whatever the service said and whether or not
//     it could be reached ([Allowed], "password.forgot.sent"), so that no
//     one can find out through it whether an account exists. What really
//     happened is logged and counted in [Service.Stats].
//   - forgot_password off, or s nil: [NotDelegated], and no request is
//     made.
//   - The time the call takes still depends on the service; a proxy that
//     must hide even that answers the user at once and calls this in the
//     background.
//   - The error is non-nil only for a programming error (a call before
//     Provision).
func (s *Service) ForgotPassword(ctx context.Context, r ForgotRequest) (ForgotResult, error) {
	if s == nil { // no [webapi] section
		return ForgotResult{Outcome: NotDelegated, Message: TextForgotNotDelegated, MessageID: MsgForgotNotDelegated}, nil
	}
	if s.client == nil {
		return ForgotResult{}, ErrNotProvisioned
	}
	if !s.UseForgotPassword {
		s.tally(&s.calls.forgot.notDelegated, kindForgot, "not_delegated", time.Time{})
		return ForgotResult{Outcome: NotDelegated, Message: TextForgotNotDelegated, MessageID: MsgForgotNotDelegated}, nil
	}
	lang := s.language(r.Language)
	body, err := json.Marshal(forgotBody{Username: r.Username, Domain: r.Domain, Email: r.Email, Language: lang})
	if err != nil {
		return ForgotResult{}, err
	}
	start := time.Now()
	resp, a, err := s.call(ctx, MethodForgot, lang, body, "")
	who := slog.Group("user", slog.String("username", r.Username), slog.String("domain", r.Domain))
	switch {
	case err != nil:
		s.tally(&s.calls.forgot.unavailable, kindForgot, "failed", start)
		s.log.WarnContext(ctx, "forgotten password not handled: the external WebAPI is unavailable", who,
			slog.Int("status", status(resp)), slog.String("error", err.Error()))
	case a.OK(s.SuccessCode):
		s.tally(&s.calls.forgot.sent, kindForgot, "ok", start)
		s.log.InfoContext(ctx, "forgotten password handled by the external WebAPI", who)
	default:
		s.tally(&s.calls.forgot.refused, kindForgot, "refused", start)
		s.log.InfoContext(ctx, "forgotten password refused by the external WebAPI", who,
			slog.String("code", a.Code), slog.String("description", a.Description))
	}
	return ForgotResult{Outcome: Allowed, Message: TextForgotSent, MessageID: MsgForgotSent}, nil
}

// Stats counts the outcomes of the calls made so far, per kind of call.
type Stats struct {
	Signup         CallStats `json:"signup"`
	ForgotPassword CallStats `json:"forgot_password"`
	Notification   CallStats `json:"notification"`
	// SignupPlugin counts the decisions of domains' plugins (Allowed,
	// Refused, Unavailable: could not decide); abstentions are not counted.
	SignupPlugin CallStats `json:"signup_plugin"`
}

// CallStats counts the outcomes of one kind of call. Not every kind has
// every outcome: sign-up counts Allowed, Refused, Unavailable;
// forgot-password Sent, Refused, Unavailable; notification Sent, Refused
// (dead-lettered), Failed (to be retried). NotDelegated counts calls made
// while the switch was off.
type CallStats struct {
	Allowed      uint64 `json:"allowed"`
	Refused      uint64 `json:"refused"`
	Unavailable  uint64 `json:"unavailable"`
	Sent         uint64 `json:"sent"`
	Failed       uint64 `json:"failed"`
	NotDelegated uint64 `json:"not_delegated"`
}

// Stats returns the counts so far; they are read one by one, so a snapshot
// taken during calls may be a little inconsistent.
func (s *Service) Stats() Stats {
	if s == nil || s.calls == nil {
		return Stats{}
	}
	return Stats{Signup: s.calls.signup.stats(), ForgotPassword: s.calls.forgot.stats(), Notification: s.calls.notify.stats(),
		SignupPlugin: s.calls.signupPlugin.stats()}
}

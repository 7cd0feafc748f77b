package webapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hostapi"
)

// Sign-up decisions by a domain's plugin (issue 17): with signup on, the
// runtime's decider (hook.Env.Signup) asks the plugin of the domain signed
// up to, when it exports hookd_v1_on_signup, before or instead of the
// External WebAPI.

// The values of signup_plugin.
const (
	// SignupPluginBefore asks the domain's plugin first: its refusal is
	// final, its allowance goes on to the External WebAPI. The default:
	// a domain owner can only narrow what the operator's service allows,
	// and a domain whose plugin has no on_signup is decided as before.
	SignupPluginBefore = "before"
	// SignupPluginInstead makes the plugin's answer final; the WebAPI
	// decides only the domains whose plugin has no on_signup or abstains.
	SignupPluginInstead = "instead"
	// SignupPluginOff never asks a plugin.
	SignupPluginOff = "off"

	DefaultSignupPlugin = SignupPluginBefore
)

// kindSignupPlugin counts the plugins' decisions, for metrics, beside the
// WebAPI's "signup".
const kindSignupPlugin = "signup_plugin"

func validSignupPlugin(v string) bool {
	return v == SignupPluginBefore || v == SignupPluginInstead || v == SignupPluginOff
}

// asksPlugins reports whether sign-ups go to the domains' plugins: a
// decider is there (not in hookd check) and signup_plugin is not "off".
func (s *Service) asksPlugins() bool { return s.decider != nil && s.SignupPlugin != SignupPluginOff }

// askPlugin asks the domain's plugin about r (lang is the language the
// WebAPI would be sent). done reports that res is the decision; otherwise
// the External WebAPI decides (no plugin with on_signup, it abstained, or
// it allowed and signup_plugin is "before").
//
// A decider error is a plugin that could not decide in time or at all:
// the sign-up is refused with "signup.unavailable" (fail closed), as when
// the WebAPI cannot be reached, and the cause is logged. A refusal passes
// the plugin's reason on as the WebAPI's description is.
func (s *Service) askPlugin(ctx context.Context, r SignupRequest, lang string, who slog.Attr) (res SignupResult, done bool) {
	fields := map[string]string{
		hostapi.SignupUsername: r.Username, hostapi.SignupDomain: r.Domain, hostapi.SignupEmail: r.Email,
		hostapi.SignupFullName: r.FullName, hostapi.SignupLanguage: lang,
	}
	start := time.Now()
	d, err := s.decider.DecideSignup(ctx, r.Domain, fields)
	switch {
	case err != nil:
		s.tally(&s.calls.signupPlugin.unavailable, kindSignupPlugin, "failed", start)
		s.log.WarnContext(ctx, "sign-up refused: the domain's plugin could not decide", who, slog.String("error", err.Error()))
		return SignupResult{Outcome: Refused, Message: TextSignupUnavailable, MessageID: MsgSignupUnavailable}, true
	case !d.Decided:
		return SignupResult{}, false
	case !d.Allow:
		s.tally(&s.calls.signupPlugin.refused, kindSignupPlugin, "refused", start)
		s.log.InfoContext(ctx, "sign-up refused by the domain's plugin", who, slog.String("reason", d.Reason))
		msg := d.Reason
		if msg == "" {
			msg = TextSignupRefused
		}
		return SignupResult{Outcome: Refused, Message: msg, MessageID: MsgSignupRefused}, true
	}
	s.tally(&s.calls.signupPlugin.allowed, kindSignupPlugin, "ok", start)
	if s.SignupPlugin == SignupPluginInstead {
		s.log.InfoContext(ctx, "sign-up allowed by the domain's plugin", who)
		return SignupResult{Outcome: Allowed, Message: TextSignupOK, MessageID: MsgSignupOK}, true
	}
	return SignupResult{}, false
}

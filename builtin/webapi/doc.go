// Package webapi is the External WebAPI (account/1): the proxy delegates
// sign-up, forgotten-password requests and new-account notifications to an
// external service.
//
// Sign-up and forgot-password are synchronous decisions, made while a user
// waits ([Service.Signup], [Service.ForgotPassword], or over HTTP through
// [Service.Handler]); a notification is an event delivered durably by the
// runtime ([Service.Targets]).
//
// # Configuration
//
//	[webapi]
//	url = "https://accounts.example/webapi2"  # base URL of the account/1 service
//	timeout = 10                              # seconds, or "2500ms"; 100ms to 60s
//	signup = true                             # "Use external WebAPI for sign up"
//	notification = true
//	forgot_password = true
//	notification_params = '"userName": {{name}}, "userDomain": {{domain}}'
//	notification_method = "account/notification/1"
//	success_code = "ok"                       # the result.code that means success
//	forward_password = false                  # send the sign-up password to the service
//	language = "en"                           # hl when the caller gives none
//	signup_plugin = "before"                  # a domain's plugin decides sign-ups: "before" the service, "instead", or "off"
//
// At least one of signup, notification and forgot_password must be on.
//
// # Calls
//
// Every call is
//
//	POST <url>?method=<method>&he=JSON1&ho=JSON1&hl=<lang>
//	Content-Type: application/json
//	Accept: application/json
//
// (the query of url is kept), with one deadline: the configured timeout or
// the caller's deadline, whichever comes first. The methods are
// account/signup/1 with {"username","domain","email","fullname","language"}
// (plus "password" when forward_password is on), account/password/forgot/1
// with {"username","domain","email","language"}, and notification_method
// with the rendered template. Notifications also carry X-Event-Id.
//
// The answer (at most 1 MiB) is JSON1, {"result": {"code", "description",
// "errors"}, "data"}, or the older {"method", "response": {"result",
// "data"}}; see [ParseAnswer]. A result.code equal to success_code is a
// success, any other code the service's refusal. A timeout, a transport
// error, a non-2xx answer or an answer that is not JSON1 is a failure.
//
// # Decisions
//
// Sign-up: success allows it; a refusal refuses it with the service's
// description and failed fields; a failure refuses it too (fail closed),
// with the generic message "signup.unavailable", and the cause is logged.
// With signup on and signup_plugin "before" (the default) or "instead",
// the plugin of the domain signed up to decides first when it exports
// hookd_v1_on_signup (hostapi/ABI.md, "Sign-up decisions"), asked through
// the runtime's [hook.SignupDecider]: its refusal is final and its reason
// is passed on as the service's description is; a plugin that cannot
// decide (a trap, its deadline, an error) refuses the sign-up with
// "signup.unavailable" (fail closed); its allowance goes on to the service
// ("before") or is final ("instead"). A domain without such a plugin, or
// whose plugin abstains, is decided by the service. The plugin and the
// service share one budget, the configured timeout.
//
// Forgot password: the user is told the same thing whatever happened, so
// that no one can probe for accounts. A switch that is off answers
// "not_delegated": the proxy handles the request itself. [Service.Stats]
// counts what really happened.
//
// # Notification
//
// With notification on, every ISL_CP USER_CREATE and SIGNUP event is sent
// with the template filled from its fields (see [NotificationValues] and
// [ParseTemplate]). A success code delivers it; another code is final
// (dead-lettered, replayable); failures are retried on the delivery
// schedule.
package webapi

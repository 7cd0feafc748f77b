package webapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
)

// ID is the module ID and the config section name.
const ID = "webapi"

// Info registers the module. A section decodes over the defaults, so that
// a parsed config shows them.
var Info = hook.ModuleInfo{ID: ID, New: func() hook.Module {
	s := new(Service)
	s.withDefaults()
	return s
}}

// Methods of the account/1 family that hookd calls, and the defaults of the
// configurable settings.
const (
	MethodSignup = "account/signup/1"
	MethodForgot = "account/password/forgot/1"

	DefaultNotificationMethod = "account/notification/1"
	DefaultSuccessCode        = "ok"
	DefaultLanguage           = "en"
	DefaultTimeout            = 10 * time.Second

	minTimeout = 100 * time.Millisecond
	maxTimeout = 60 * time.Second
)

// methodRE is the shape of a WebAPI method name: slash-separated lowercase
// parts ending in a version number, e.g. account/signup/1.
var methodRE = regexp.MustCompile(`^[a-z0-9_]+(/[a-z0-9_]+)*/[0-9]+$`)

// Service is the [webapi] section and, once provisioned, the client of the
// external account/1 service: sign-up and forgot-password decisions
// ([Service.Signup], [Service.ForgotPassword], [Service.Handler]) and the
// durable notification target ([Service.Targets]).
//
// A Service is safe for concurrent use once provisioned; its fields must
// not change after Provision.
type Service struct {
	// URL is the base URL of the account/1 service; the method and the
	// encodings are added to its query. Required.
	URL string `toml:"url"`
	// Timeout bounds every call ("External WebAPI call timeout in
	// seconds"): a whole number of seconds or a duration string, 100ms to
	// 60s. Defaults to 10s.
	Timeout hook.Duration `toml:"timeout"`
	// UseSignup delegates sign-up decisions to the service ("Use external
	// WebAPI for sign up"). Defaults to false.
	//
	// The three switches are named Use… in Go because Service has the
	// methods Signup and ForgotPassword; their config keys are signup,
	// notification and forgot_password.
	UseSignup bool `toml:"signup"`
	// UseNotification sends a notification after a user is created or
	// signs up. Defaults to false.
	UseNotification bool `toml:"notification"`
	// UseForgotPassword delegates forgotten-password requests to the
	// service. Defaults to false.
	UseForgotPassword bool `toml:"forgot_password"`
	// NotificationParams is the notification's JSON template (see
	// [ParseTemplate]). Required when Notification is on.
	NotificationParams string `toml:"notification_params"`
	// NotificationMethod is the method notifications are sent with.
	// Defaults to "account/notification/1".
	NotificationMethod string `toml:"notification_method"`
	// SuccessCode is the result.code that means success. Defaults to "ok".
	SuccessCode string `toml:"success_code"`
	// ForwardPassword sends the sign-up password to the service. Defaults
	// to false.
	ForwardPassword bool `toml:"forward_password"`
	// Language is the hl sent when the caller gives none, an ISO 639-1
	// code. Defaults to "en".
	Language string `toml:"language"`
	// SignupPlugin says whether a domain's plugin decides its sign-ups
	// (hookd_v1_on_signup): "before" the External WebAPI (the default: a
	// refusal ends the decision, an allowance goes on to the WebAPI),
	// "instead" of it (the plugin's answer is final), or "off". Only with
	// signup on; a domain whose plugin has no on_signup, or abstains, is
	// decided by the WebAPI. See signupplugin.go.
	SignupPlugin string `toml:"signup_plugin"`
	// Delivery is the [webapi.delivery] table (internal/delivery): the
	// notification target's headers, signing, TLS, proxy, filter, rate
	// limit and order. Its HTTP part (headers, signing, TLS, proxy) also
	// applies to the sign-up and forgotten-password calls: they go to the
	// same service, which authenticates hookd the same way. nil sets none.
	Delivery *hook.DeliverySettings `toml:"delivery"`

	client  *outbound.Client
	tmpl    *Template
	log     *slog.Logger
	urls    map[string]string // method → URL up to and including "hl="
	timeout time.Duration

	calls   *calls             // made by Provision
	count   *callMetrics       // registered in the runtime's metrics at Provision (metrics.go)
	decider hook.SignupDecider // domains' plugins, from Provision (nil: none)
}

// calls are the outcome counters of every call kind.
type calls struct {
	signup, forgot, notify, signupPlugin counters
}

// tally counts one outcome of a call of kind that began at start (zero:
// no call was made): in c, for Stats, and in the runtime's counters, for
// metrics, whose outcomes are ok, refused, failed and not_delegated.
func (s *Service) tally(c *atomic.Uint64, kind, outcome string, start time.Time) {
	c.Add(1)
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	s.count.call(kind, outcome, d)
}

// The kinds of call, for metrics.
const (
	kindSignup       = "signup"
	kindForgot       = "forgot_password"
	kindNotification = "notification"
)

// counters are the outcomes of one call kind.
type counters struct {
	allowed, refused, unavailable, sent, failed, notDelegated atomic.Uint64
}

func (c *counters) stats() CallStats {
	return CallStats{
		Allowed: c.allowed.Load(), Refused: c.refused.Load(), Unavailable: c.unavailable.Load(),
		Sent: c.sent.Load(), Failed: c.failed.Load(), NotDelegated: c.notDelegated.Load(),
	}
}

// withDefaults fills the unset settings: the one place defaults live. A
// section built in Go gets them at Provision.
func (s *Service) withDefaults() {
	if s.Timeout == 0 {
		s.Timeout = hook.Duration(DefaultTimeout)
	}
	if s.NotificationMethod == "" {
		s.NotificationMethod = DefaultNotificationMethod
	}
	if s.SuccessCode == "" {
		s.SuccessCode = DefaultSuccessCode
	}
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if s.SignupPlugin == "" {
		s.SignupPlugin = DefaultSignupPlugin
	}
}

// Validate checks the section, defaults applied, without I/O and without
// changing s.
//
// It refuses a section that is off ([Service.Off]), which the runtime
// does not validate: for the runtime such a section is simply off.
func (s *Service) Validate() error {
	c := *s
	c.withDefaults()
	return c.validate()
}

// validate checks a section whose defaults are applied.
func (s *Service) validate() error {
	var errs []error
	if s.URL == "" {
		errs = append(errs, errors.New("url: required: the base URL of the account/1 service, e.g. https://accounts.example/webapi"))
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: must be an absolute http:// or https:// URL, got %q", s.URL))
	}
	if t := time.Duration(s.Timeout); t < minTimeout || t > maxTimeout {
		errs = append(errs, fmt.Errorf("timeout: must be between %s and %s, got %s", minTimeout, hook.Duration(maxTimeout), s.Timeout))
	}
	if s.Off() != "" {
		errs = append(errs, errors.New("none of signup, notification, forgot_password is on; turn one on (or remove the [webapi] section)"))
	}
	switch {
	case s.NotificationParams != "":
		if _, err := ParseTemplate(s.NotificationParams); err != nil {
			errs = append(errs, fmt.Errorf("notification_params: %w", err))
		}
	case s.UseNotification:
		errs = append(errs, errors.New(`notification_params: required when notification = true: the JSON parameters of a notification, e.g. "userName": {{name}}, "userDomain": {{domain}}`))
	}
	if !methodRE.MatchString(s.NotificationMethod) {
		errs = append(errs, fmt.Errorf("notification_method: must be a method name like %q (lowercase letters, digits and _ in parts separated by /, ending in /<version number>), got %q",
			DefaultNotificationMethod, s.NotificationMethod))
	}
	if strings.TrimSpace(s.SuccessCode) != s.SuccessCode {
		errs = append(errs, fmt.Errorf("success_code: must not start or end with white space, got %q", s.SuccessCode))
	}
	if !validSignupPlugin(s.SignupPlugin) {
		errs = append(errs, fmt.Errorf("signup_plugin: must be %q, %q or %q, got %q", SignupPluginBefore, SignupPluginInstead, SignupPluginOff, s.SignupPlugin))
	}
	if !isLang(s.Language) {
		errs = append(errs, fmt.Errorf("language: must be a two-letter lowercase ISO 639-1 code like \"en\", got %q", s.Language))
	}
	if err := delivery.Validate(s.Delivery); err != nil {
		errs = append(errs, delivery.Prefix("delivery:", err))
	}
	if d := s.Delivery; d != nil && !s.UseNotification && (!d.Filter.IsZero() || d.RateLimit != 0 || d.Burst != 0 || d.OrderedBy != "") {
		errs = append(errs, errors.New("delivery: filter, rate_limit, burst and ordered_by apply to the notifications, and notification is off; "+
			"the synchronous calls take only headers, signing, tls and proxy"))
	}
	return errors.Join(errs...)
}

// isLang reports whether s is two lowercase ASCII letters.
func isLang(s string) bool {
	return len(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'
}

// SignupLanguage is the language a sign-up is decided in, for a
// caller's language l: what the domain's plugin reads as its "language"
// field and the External WebAPI is sent as hl. It is the one rule for
// both the live sign-up and an owner's dry run of sign-ups
// (runtime.DryRunPlugin), so that a dry run's plugin reads what a real
// sign-up's would. Without a [webapi] section (s nil) the default
// language fills in for the configured one.
func (s *Service) SignupLanguage(l string) string {
	if s == nil {
		s = &Service{Language: DefaultLanguage}
	}
	return s.language(l)
}

// language returns the hl for a caller's language: its primary subtag
// ("de" of "de-AT" or "DE_at"), or the configured language when the caller
// gives none or something that is not a language code. (Exported as
// [Service.SignupLanguage].)
func (s *Service) language(l string) string {
	if isLang(l) {
		return l
	}
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if l = strings.ToLower(l); isLang(l) {
		return l
	}
	return s.Language
}

// Off says why the section is off, or "" when it is on: none of signup,
// notification and forgot_password is on. The proxy treats such a
// section as off, not as a mistake, and so does hookd (with one log line
// at start).
func (s *Service) Off() string {
	if !s.UseSignup && !s.UseNotification && !s.UseForgotPassword {
		return "none of signup, notification, forgot_password is on"
	}
	return ""
}

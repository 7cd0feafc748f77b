package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Domain owners (issue 17): who asks, and what hookd shows them about
// their domain. The types are the kernel's so that every view (the API,
// the admin page, the portal, the CLI) speaks of the same things; the
// runtime owns the behaviour.

// ErrInvalid marks a request whose input was refused (a domain's
// settings, an uploaded plugin, a dry run's events): the text says what
// was wrong and what is allowed. The API answers it with 400.
var ErrInvalid = errors.New("invalid")

// Invalid wraps a message as an error matching [ErrInvalid].
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Principal is who makes a request: the operator (Domain ""), or the
// owner of one domain, authenticated by one of its domain tokens.
type Principal struct {
	// Domain is the DOMAIN_ID a domain token belongs to; "" for the
	// operator.
	Domain string `json:"domain,omitempty"`
	// TokenID and TokenName name the domain token (empty for the operator).
	TokenID   string `json:"token_id,omitempty"`
	TokenName string `json:"token_name,omitempty"`
}

// Operator is the principal of the operator's token.
func Operator() Principal { return Principal{} }

// IsOperator reports whether p is the operator.
func (p Principal) IsOperator() bool { return p.Domain == "" }

// Sees reports whether p may see domain's resources: the operator sees
// every domain, a domain token only its own.
func (p Principal) Sees(domain string) bool { return p.IsOperator() || p.Domain == domain }

// String names p for audit records and logs: "operator", or
// `domain "42" token "ci" (dt_…)`.
func (p Principal) String() string {
	if p.IsOperator() {
		return "operator"
	}
	return fmt.Sprintf("domain %q token %q (%s)", p.Domain, p.TokenName, p.TokenID)
}

// Where a domain's integration is defined.
const (
	DomainFromConfig = "config" // a [[domain]] entry of the TOML file: read-only through the API
	DomainFromStore  = "store"  // stored through the API, shared by every node
)

// DomainInfo is one domain's integration as hookd shows it.
type DomainInfo struct {
	ID string `json:"id"`
	// Source is DomainFromConfig or DomainFromStore.
	Source string `json:"source"`
	// Spec is the domain's settings as JSON, with the keys of a
	// [[domain]] entry (script, strict, combine_interval, plugin, config).
	Spec json.RawMessage `json:"spec"`
	// Plugin is the active stored plugin version, if the domain runs one.
	Plugin *PluginVersion `json:"plugin,omitempty"`
	// Revision counts the stored changes of this domain (0 for config).
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// Target is the name of the domain's delivery target.
	Target string `json:"target"`
}

// PluginVersion is one stored version of a domain's plugin.
type PluginVersion struct {
	Domain  string `json:"domain"`
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	// Settings are the plugin's limits and capabilities and its own
	// config, as uploaded with it: {"plugin": {...}, "config": {...}}.
	Settings  json.RawMessage `json:"settings,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	CreatedBy string          `json:"created_by"`
	Active    bool            `json:"active"`
}

// DomainToken is a domain token as listed; Secret is set only in the
// answer that created it (it is stored only as a hash).
type DomainToken struct {
	ID        string     `json:"id"`
	Domain    string     `json:"domain"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Secret    string     `json:"token,omitempty"`
}

// AuditEntry is one change to a domain: who made it, when, and what.
type AuditEntry struct {
	ID     int64           `json:"id"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Domain string          `json:"domain"`
	Action string          `json:"action"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// PluginLogLine is one line a domain's plugin wrote, with the event it
// was handling and the node it ran on.
type PluginLogLine struct {
	At      time.Time `json:"at"`
	Node    string    `json:"node"`
	Domain  string    `json:"domain"`
	EventID string    `json:"event_id,omitempty"`
	Level   string    `json:"level"`
	Line    string    `json:"line"`
}

// DryRunRequest asks for a candidate plugin to be run against events
// without delivering or storing anything.
type DryRunRequest struct {
	// Version is a stored version to test; 0 with Module set tests an
	// uploaded module that is not stored.
	Version int `json:"version,omitempty"`
	// Module is the candidate's .wasm bytes (multipart upload).
	Module []byte `json:"-"`
	// Settings are the candidate's {"plugin": {...}, "config": {...}};
	// empty: the stored version's, or none.
	Settings json.RawMessage `json:"settings,omitempty"`
	// Events are the events to run it on (each one's fields); with none,
	// the domain's Last recorded events.
	Events []map[string]string `json:"events,omitempty"`
	Last   int                 `json:"last,omitempty"`
	// Stubs answer the plugin's HTTP calls; a call no stub matches is
	// refused, unless LiveHTTP is set and the plugin's allow-list permits
	// it, when it is really made.
	Stubs    []HTTPStub `json:"stubs,omitempty"`
	LiveHTTP bool       `json:"live_http,omitempty"`
	// Signups are sign-ups to ask the candidate's hookd_v1_on_signup
	// about, after the events and with the same plugin state: what the
	// domain's plugin would decide while a user waits. With sign-ups and
	// neither Events nor Last, no event runs.
	Signups []DryRunSignup `json:"signups,omitempty"`
}

// DryRunSignup is a sign-up of a dry run: the fields Runtime.Signup takes
// that a plugin reads (never a password, which no plugin is shown).
type DryRunSignup struct {
	Username string `json:"username"`
	// Domain is the domain signed up to: the tested domain's id, or ""
	// for it.
	Domain   string `json:"domain,omitempty"`
	Email    string `json:"email,omitempty"`
	FullName string `json:"fullname,omitempty"`
	// Language is passed to the plugin as given (the daemon's sign-up
	// path first reduces "de-AT" to "de" and "" to the configured one).
	Language string `json:"language,omitempty"`
}

// What a candidate plugin decided on a dry run's sign-up
// (DryRunSignupResult.Decision).
const (
	DryRunAllow   = "allow"   // it allows the sign-up
	DryRunRefuse  = "refuse"  // it refuses it, with Reason for the user
	DryRunAbstain = "abstain" // it leaves the decision to the External WebAPI
	// DryRunError: it could not decide (a trap, its deadline, a status
	// other than allow, refuse or abstain); the daemon would refuse the
	// sign-up as unavailable (fail closed).
	DryRunError = "error"
	// DryRunNoExport: the module has no hookd_v1_on_signup, so it is never
	// asked; the External WebAPI decides the domain's sign-ups.
	DryRunNoExport = "no_export"
)

// DryRunSignupResult is what a candidate plugin decided on one sign-up.
type DryRunSignupResult struct {
	Signup DryRunSignup `json:"signup"`
	// Decision is one of DryRunAllow, DryRunRefuse, DryRunAbstain,
	// DryRunError, DryRunNoExport.
	Decision string `json:"decision"`
	// Reason is the refusal's text the user would read ("" : the
	// daemon's generic refusal text).
	Reason string `json:"reason,omitempty"`
	// Error says why the plugin could not decide, or that it has no
	// export.
	Error string `json:"error,omitempty"`
	// Status is what hookd_v1_on_signup returned (0 allow, 1 refuse,
	// 2 abstain); 0 when it was not called or failed.
	Status    int32            `json:"status"`
	Logs      []string         `json:"logs,omitempty"`
	HostCalls []DryRunHostCall `json:"host_calls,omitempty"`
	Duration  time.Duration    `json:"duration_ns"`
	// Memory is the guest's linear memory after the call, in bytes; 0
	// when not measured.
	Memory int64 `json:"memory_bytes"`
}

// DryRunReport is a whole dry run's answer: what the candidate did with
// each event (in order), and what it decided on each sign-up.
type DryRunReport struct {
	Results []DryRunResult       `json:"results"`
	Signups []DryRunSignupResult `json:"signups,omitempty"`
}

// HTTPStub answers a dry run's HTTP call to Method and URL ("" matches
// any method).
type HTTPStub struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// DryRunResult is what a candidate plugin did with one event.
type DryRunResult struct {
	EventID string            `json:"event_id"`
	Fields  map[string]string `json:"fields"`
	// Verdict is what the delivery would have become: "acknowledged",
	// "retry" or "failed" (for good), with Error saying why.
	Verdict string `json:"verdict"`
	Error   string `json:"error,omitempty"`
	Status  uint32 `json:"status"`
	Reply   string `json:"reply,omitempty"`
	// Commands are the XMLMSG documents it would send to the proxy.
	Commands  []string         `json:"commands,omitempty"`
	Logs      []string         `json:"logs,omitempty"`
	HostCalls []DryRunHostCall `json:"host_calls,omitempty"`
	Duration  time.Duration    `json:"duration_ns"`
	// Memory is the guest's linear memory after the call, in bytes.
	Memory int64 `json:"memory_bytes"`
}

// DryRunHostCall is one host function call of a dry run; for an HTTP
// call, Detail says which stub answered or that it was really made.
type DryRunHostCall struct {
	Function string `json:"function"`
	Result   string `json:"result"`
	Detail   string `json:"detail,omitempty"`
}

// DomainSummary is a domain's metrics at a glance: its target's
// deliveries by state and its plugin's calls by outcome.
type DomainSummary struct {
	Domain      string         `json:"domain"`
	Target      string         `json:"target"`
	Deliveries  map[string]int `json:"deliveries"`
	PluginCalls map[string]int `json:"plugin_calls,omitempty"`
}

// SignupDecision is a domain plugin's answer on a sign-up (on_signup).
type SignupDecision struct {
	// Decided is false when the domain has no plugin with on_signup.
	Decided bool
	Allow   bool
	// Reason is the plugin's text for the user when it refuses.
	Reason string
}

// SignupDecider asks a domain's plugin whether a sign-up to the domain is
// allowed, while the user waits. The runtime gives one to modules
// ([Env.Signup]); an error means the plugin could not decide (the caller
// fails closed).
type SignupDecider interface {
	DecideSignup(ctx context.Context, domain string, fields map[string]string) (SignupDecision, error)
}

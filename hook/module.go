package hook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Target is one place events are delivered to: a named [Handler] with the
// rule that picks its events and the policy that bounds its retries.
//
// Name is stored with every delivery, so it must be stable across restarts
// and unique within a runtime (e.g. "jwt_webhook", "http_events.global").
type Target struct {
	Name    string
	Handler Handler
	// Match reports whether the target wants ev. nil matches every event.
	Match  func(ev *Event) bool
	Policy Policy
	// Delivery holds the target's delivery settings (headers, signing,
	// TLS, proxy, filter, rate limit, order); nil sets none. The engine
	// applies the filter (with Match), the rate limit and the order; the
	// target's handler sends through an outbound client built from the
	// same settings (internal/delivery).
	Delivery *DeliverySettings
}

// Wants reports whether the target wants ev.
func (t *Target) Wants(ev *Event) bool { return t.Match == nil || t.Match(ev) }

// Policy bounds how persistently a target's deliveries are retried.
type Policy struct {
	// MaxAttempts is the most attempts a delivery gets. 0 means no limit:
	// retry until acknowledged, bounded only by the delivery maximum age
	// (the "strict" behaviour, and the JWT webhook's).
	MaxAttempts int
	// Schedule, when set, replaces the runtime's retry schedule for this
	// target (the last step repeats).
	Schedule []time.Duration
	// Timeout, when set, replaces the delivery timeout for one attempt.
	Timeout time.Duration
	// Combine, when set, sends the target's events together once per
	// interval as one request, in order; the Handler must then also be a
	// [BatchHandler].
	Combine time.Duration
}

// BatchHandler delivers several events in one attempt (combined HTTP
// events). The events are in emit order. The same contract as [Handler]
// applies: the outcome is the outcome of every event in the batch.
type BatchHandler interface {
	HandleBatch(ctx context.Context, evs []*Event) (Result, error)
}

// Never is a Match function that matches no event: for targets that only
// receive what the runtime routes to them by name (the command sink).
func Never(*Event) bool { return false }

// CommandsTarget is the name of the target that receives XMLMSG commands
// returned by scripts and plugins. Its events have MODULE "HOOKD", EVENT
// "XMLMSG" and the document in field XML (see [CommandFields]).
const CommandsTarget = "commands"

// Field names of a command event.
const (
	CommandFieldXML    = "XML"
	CommandFieldSource = "SOURCE_EVENT_ID"
	CommandFieldTarget = "SOURCE_TARGET"
)

// SessionSaver is implemented by modules that want every event carrying a
// SESSIONID indexed into its session's record ("Save HTTP events into
// session objects").
type SessionSaver interface {
	SaveToSession() bool
}

// Module is a configured built-in (or a module of an embedding proxy) that
// provides targets. Its config section is decoded straight into the value
// [ModuleInfo.New] returns, so a Module is also its own config struct.
//
// Optional steps are one-method interfaces, called in this order by the
// runtime: [Validator] (no I/O, at config load and again at start),
// [Provisioner] (may read key files, at start), then Targets; [Closer] at
// shutdown, or when a later step fails.
//
// # A fresh value per load
//
// The parsed config is never the live module. Each time the runtime starts
// (or checks) a config, it copies each section into a new value of the
// same type, provisions that copy and closes it afterwards, whether or not
// Provision succeeded (Caddy's rule). So a config can be checked and then
// opened, or opened twice in turn, and a Provision that fails half-way
// still has its Close called to release what it acquired. Modules keep
// their config in exported fields, which Validate and Provision only
// read, and their live state in unexported fields, which start zero.
type Module interface {
	Targets() []Target
}

// Validator checks a decoded config section without doing I/O. The error
// names the key and what is allowed.
type Validator interface {
	Validate() error
}

// Provisioner prepares a module to run: reads keys, builds handlers. It
// runs on a fresh copy of the config section (see [Module]); when it fails,
// the module's Close is still called.
type Provisioner interface {
	Provision(ctx context.Context, env Env) error
}

// Closer releases what Provision acquired, also after a Provision that
// failed half-way: Close must cope with a partly provisioned module.
type Closer interface {
	Close() error
}

// JWKSPublisher is implemented by modules that sign with private keys; the
// runtime serves their public keys at /.well-known/jwks.json.
type JWKSPublisher interface {
	// PublicJWKs returns each public key as one JSON Web Key object.
	PublicJWKs() []json.RawMessage
}

// Env is what the runtime gives a module at provisioning time.
type Env struct {
	// Logger is already scoped with the module's ID.
	Logger *slog.Logger
	// PrivateDir is the directory key files are resolved in.
	PrivateDir string
	// RequestTimeout bounds one delivery attempt.
	RequestTimeout time.Duration
	// UserAgent names hookd and its version, for outbound requests.
	UserAgent string
	// DeliveryProxy is [delivery] proxy: the egress proxy of every target
	// whose delivery settings name none ("" none). A module passes it to
	// delivery.Build as Env.Proxy, so that one default reaches every
	// target kind.
	DeliveryProxy string
	// Lookup returns the config section of another configured module by
	// ID, e.g. http_events reads the [[domain]] list. It is the parsed
	// config, shared by every load: read it, never modify it.
	Lookup func(id string) (Module, bool)
	// Resolve makes a path from the config file relative to the config
	// file's directory (absolute paths and "" stay as they are).
	Resolve func(path string) string
	// Metrics is the runtime's metrics registry: a module registers the
	// collectors of what it counts (plugin calls, WebAPI calls) there;
	// nil outside a runtime (tests, `hookd plugin run`): count into
	// collectors nobody gathers.
	Metrics MetricsRegistry
	// State keeps the durable state of WASM plugins (granted per domain
	// by [domain.plugin] state = true). The runtime opens the store
	// before it provisions modules, so State works from Provision on (a
	// plugin's hookd_v1_init at start); `hookd check` gives a state in
	// memory, thrown away. nil outside a runtime.
	State StateStore
	// Signup asks a domain's plugin to decide a sign-up (on_signup); nil
	// when there is none (hookd check).
	Signup SignupDecider
}

// MetricsRegistry is where a module registers its metrics, so that each
// module owns its own (names, labels, help) and the kernel lists none.
// hook imports no metrics library: the runtime's registry is Prometheus's,
// and internal/metrics builds and registers a module's vectors
// (metrics.Counter, metrics.Histogram). Safe for concurrent use.
type MetricsRegistry interface {
	// Register adds collector, a prometheus.Collector; anything else is
	// an error. One equal to a collector already registered is an error
	// matching prometheus.AlreadyRegisteredError.
	Register(collector any) error
	// PerTarget reports [metrics] per_target: whether a module may label
	// its metrics with a target or domain (a series each), beside kinds.
	PerTarget() bool
}

// The outcomes of a plugin call: the keys of PluginStatus.Calls, and the
// outcome label of hookd_plugin_calls_total.
const (
	PluginOK       = "ok"       // the call returned and its reply was accepted
	PluginTrap     = "trap"     // the guest trapped (unreachable, out-of-bounds, …)
	PluginDeadline = "deadline" // the call's deadline stopped it
	PluginMemory   = "memory"   // it outgrew its memory limit
	PluginRefused  = "refused"  // its reply or status was refused (a failure it reported, or an invalid reply)
	PluginFailed   = "failed"   // the host could not make the call (no instance could start, …)
)

// PluginStatus is where one WASM plugin stands, for the admin page.
type PluginStatus struct {
	Domain     string           `json:"domain"`
	Path       string           `json:"path"`
	SHA256     string           `json:"sha256"`
	Instances  int              `json:"instances"` // warm instances in its pool now
	Calls      map[string]int64 `json:"calls"`     // by outcome (PluginOK, …) since start
	Reloads    int64            `json:"reloads"`   // versions taken since start
	LastReload *time.Time       `json:"last_reload,omitempty"`
	LastError  string           `json:"last_error,omitempty"` // why the last reload was refused, if it was
}

// PluginReporter is implemented by modules that run WASM plugins, for the
// admin page.
type PluginReporter interface {
	Plugins() []PluginStatus
}

// Warner is implemented by modules whose section is valid but probably not
// what the operator meant ([[domain]] entries while per_domain is off):
// `hookd check` prints the warnings and `hookd serve` logs them. lookup
// returns another module's section, as Env.Lookup does.
type Warner interface {
	Warnings(lookup func(id string) (Module, bool)) []string
}

// Reloader is implemented by modules that can pick up changed files
// without a restart (WASM plugins); the daemon calls Reload on SIGHUP.
type Reloader interface {
	Reload(ctx context.Context) error
}

// Route is one HTTP route a module serves itself.
type Route struct {
	// Pattern is a net/http ServeMux pattern with a method, e.g.
	// "POST /v1/webapi/account/signup/1". Under /v1/ the route needs the
	// API's bearer token like every other route.
	Pattern string
	Handler http.Handler
}

// RouteProvider is implemented by modules that answer synchronous
// requests over HTTP (the External WebAPI's sign-up and forgotten
// password): the daemon mounts the routes modules offer without knowing
// the modules.
type RouteProvider interface {
	Routes() []Route
}

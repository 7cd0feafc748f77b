package httpevents

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
)

// IDs of the two config sections this package reads.
const (
	ID       = "http_events"
	DomainID = "domain"
)

// maxCombine is the proxy's own limit on the combined-events interval.
const maxCombine = 300 * time.Second

// Info and DomainsInfo register the modules.
var (
	Info        = hook.ModuleInfo{ID: ID, New: func() hook.Module { return new(Events) }}
	DomainsInfo = hook.ModuleInfo{ID: DomainID, New: func() hook.Module { return new(Domains) }}
)

// Domain is one [[domain]] entry: a domain's own events script, an
// http(s) URL or a WebAssembly plugin (a path ending in .wasm).
//
// The same entry is what a stored domain's settings decode into (JSON
// with the same keys, issue 17), so that both are judged by one
// [Domains.Validate] and built by one [Events.BuildDomain].
type Domain struct {
	ID     string `toml:"id" json:"id,omitempty"`
	Script string `toml:"script" json:"script,omitempty"`
	// Strict, when set, overrides [http_events] per_domain_strict.
	Strict *bool `toml:"strict" json:"strict,omitempty"`
	// CombineInterval, when set, overrides [http_events] combine_interval.
	CombineInterval *hook.Duration `toml:"combine_interval" json:"combine_interval,omitempty"`
	// Plugin holds a .wasm script's limits and capabilities.
	Plugin wasmscript.Settings `toml:"plugin" json:"plugin,omitzero"`
	// Config is a .wasm script's own configuration, which it reads with
	// config_read (pdk.Config).
	Config map[string]any `toml:"config" json:"config,omitempty"`
	// Delivery is the [domain.delivery] table (JSON "delivery"): the
	// target's headers, signing, TLS, proxy, filter, rate limit and order
	// (internal/delivery). The HTTP part applies to a URL script; a
	// plugin makes its own requests, so only the filter, the rate limit
	// and the order apply to it. A domain token may not name files nor
	// set the proxy (delivery.CheckOwner, at the runtime's write).
	Delivery hook.DeliverySettings `toml:"delivery" json:"delivery,omitzero"`
	// Module, when set, is the plugin's binary itself (a stored plugin
	// version) rather than a file: the domain is then a plugin whatever
	// Script says, and Script is ignored. Never read from a file or JSON:
	// the store hands it over.
	Module []byte `toml:"-" json:"-"`
}

// IsPlugin reports whether the script is a WebAssembly plugin: a stored
// module, or a script path ending in .wasm.
func (d *Domain) IsPlugin() bool { return d.Module != nil || wasmscript.IsPlugin(d.Script) }

// Spec returns what a wasmscript.Host loads for a plugin script: the file
// resolved with resolve (or the stored module), the settings and config,
// and the strictness.
func (d *Domain) Spec(resolve func(string) string, strict bool) wasmscript.Spec {
	if d.Module != nil {
		return wasmscript.Spec{Domain: d.ID, Module: d.Module, Settings: d.Plugin, Config: d.Config, Strict: strict}
	}
	return wasmscript.Spec{Domain: d.ID, Path: resolve(d.Script), Settings: d.Plugin, Config: d.Config, Strict: strict}
}

// Domains is the [[domain]] array. It provides no targets itself: the
// http_events module reads it.
type Domains []Domain

// DomainsOf returns the [[domain]] entries of a config's module sections
// (none when the config has no [[domain]]).
func DomainsOf(modules map[string]hook.Module) Domains {
	if d, ok := modules[DomainID].(*Domains); ok && d != nil {
		return *d
	}
	return nil
}

// Targets implements hook.Module.
func (*Domains) Targets() []hook.Target { return nil }

// Warnings implements hook.Warner: [[domain]] scripts receive nothing
// unless [http_events] per_domain is on.
func (ds *Domains) Warnings(lookup func(id string) (hook.Module, bool)) []string {
	if len(*ds) == 0 {
		return nil
	}
	m, ok := lookup(ID)
	switch {
	case !ok:
		return []string{fmt.Sprintf("%d [[domain]] scripts are configured but there is no [http_events] section: they receive nothing", len(*ds))}
	case !m.(*Events).PerDomain:
		return []string{fmt.Sprintf("%d [[domain]] scripts are configured but [http_events] per_domain is off: they receive nothing", len(*ds))}
	}
	return nil
}

// Validate checks every entry: a unique id and an http(s) script URL.
func (ds *Domains) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, d := range *ds {
		at := fmt.Sprintf("[[domain]] #%d", i+1)
		if d.ID != "" {
			at = fmt.Sprintf("[[domain]] id %q", d.ID)
		}
		switch {
		case d.ID == "":
			errs = append(errs, fmt.Errorf("%s: id: required: the DOMAIN_ID whose events this script receives", at))
		case seen[d.ID]:
			errs = append(errs, fmt.Errorf("%s: id: defined twice", at))
		}
		seen[d.ID] = true
		switch {
		case d.Script == "" && d.Module == nil:
			errs = append(errs, fmt.Errorf("%s: script: required: an http:// or https:// URL, or the path of a .wasm plugin", at))
		case d.IsPlugin():
			if err := d.Plugin.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: plugin.%w", at, err))
			}
		default:
			if !d.Plugin.Empty() || d.Config != nil {
				errs = append(errs, fmt.Errorf("%s: plugin and config apply to .wasm scripts only; %q is a URL", at, d.Script))
			}
			if err := checkURL(d.Script); err != nil {
				errs = append(errs, fmt.Errorf("%s: script: %w", at, err))
			}
		}
		if d.CombineInterval != nil && time.Duration(*d.CombineInterval) > maxCombine {
			errs = append(errs, fmt.Errorf("%s: combine_interval: must be between 0 and 300s, got %s", at, *d.CombineInterval))
		}
		if err := d.validateDelivery(at); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ValidateDelivery judges d's delivery table alone, as [Domains.Validate]
// does, for a stored domain whose script is "" (its active stored plugin,
// which Validate cannot judge as a script): errors start with
// "[[domain]] id %q: delivery:".
func (d *Domain) ValidateDelivery() error {
	return d.validateDelivery(fmt.Sprintf("[[domain]] id %q", d.ID))
}

func (d *Domain) validateDelivery(at string) error {
	var errs []error
	if err := delivery.Validate(&d.Delivery); err != nil {
		errs = append(errs, delivery.Prefix(at+": delivery:", err))
	}
	if d.IsPlugin() {
		if k := httpKey(&d.Delivery); k != "" {
			errs = append(errs, pluginHTTP(at, k))
		}
	}
	if d.CombineInterval != nil {
		if err := delivery.CheckCombine(&d.Delivery, time.Duration(*d.CombineInterval)); err != nil {
			errs = append(errs, delivery.Prefix(at+": delivery:", err))
		}
	}
	return errors.Join(errs...)
}

// pluginHTTP is the error of an HTTP delivery setting (key) on a plugin
// domain (at).
func pluginHTTP(at, key string) error {
	return fmt.Errorf("%s: delivery: %s: applies to a URL script; a plugin makes its own requests (set only filter, rate_limit, burst and ordered_by for it)", at, key)
}

// httpKey names the first HTTP setting s holds (headers, signing, TLS,
// proxy), "" when it holds none: what a plugin target cannot apply.
func httpKey(s *hook.DeliverySettings) string {
	switch {
	case len(s.Headers) > 0:
		return "headers"
	case s.Signing != "" || len(s.SigningSecrets) > 0 || s.SigningKey != "":
		return "signing"
	case s.TLS != (hook.TLSSettings{}):
		return "tls"
	case s.Proxy != "":
		return "proxy"
	}
	return ""
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http:// or https:// URL, got %q", s)
	}
	return nil
}

// Events is the [http_events] section.
type Events struct {
	Global          bool          `toml:"global"`
	GlobalServer    string        `toml:"global_server"`
	GlobalPath      string        `toml:"global_path"`
	GlobalStrict    bool          `toml:"global_strict"`
	PerDomain       bool          `toml:"per_domain"`
	PerDomainStrict bool          `toml:"per_domain_strict"`
	SaveSession     bool          `toml:"save_to_session"`
	Timeout         hook.Duration `toml:"timeout"`
	CombineInterval hook.Duration `toml:"combine_interval"`
	AllowPrivate    []string      `toml:"allow_private"`
	// Delivery is the [http_events.delivery] table: the global script's
	// delivery settings (internal/delivery); nil sets none. Each
	// [[domain]] has its own.
	Delivery *hook.DeliverySettings `toml:"delivery"`

	targets []hook.Target
	live    *live // set by Provision (module.go)
}

// globalURL builds the global script's URL from server and path.
func (e *Events) globalURL() (string, error) {
	server := e.GlobalServer
	scheme := "http"
	if i := strings.Index(server, "://"); i >= 0 {
		scheme, server = server[:i], server[i+3:]
		if scheme != "http" && scheme != "https" {
			return "", fmt.Errorf("global_server: scheme must be http or https, got %q", e.GlobalServer)
		}
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil || host == "" || port == "" || strings.ContainsAny(server, "/?#") {
		return "", fmt.Errorf("global_server: must be host:port (e.g. localhost:8080) or http(s)://host:port, got %q", e.GlobalServer)
	}
	path := e.GlobalPath
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("global_path: must start with /, got %q", e.GlobalPath)
	}
	u := scheme + "://" + server + path
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("global_path: %q does not form a valid URL: %w", e.GlobalPath, err)
	}
	return u, nil
}

// Validate checks the section without I/O. It refuses a section that is
// off ([Events.Off]), which the runtime does not validate: for the
// runtime such a section is simply off.
func (e *Events) Validate() error {
	var errs []error
	if e.Global {
		if e.GlobalServer == "" {
			errs = append(errs, errors.New("global_server: required when global = true: the host:port of the global events script, e.g. localhost:8080"))
		} else if _, err := e.globalURL(); err != nil {
			errs = append(errs, err)
		}
	}
	if t := time.Duration(e.Timeout); t != 0 && (t < 100*time.Millisecond || t > 5*time.Minute) {
		errs = append(errs, fmt.Errorf("timeout: must be between 100ms and 5m (or 0 for [delivery] timeout), got %s", e.Timeout))
	}
	if c := time.Duration(e.CombineInterval); c > maxCombine {
		errs = append(errs, fmt.Errorf("combine_interval: must be between 0 and 300s (0 = off), got %s", e.CombineInterval))
	}
	if _, err := outbound.ParsePrefixes(e.AllowPrivate); err != nil {
		errs = append(errs, fmt.Errorf("allow_private: %w", err))
	}
	if err := delivery.Validate(e.Delivery); err != nil {
		errs = append(errs, delivery.Prefix("delivery:", err))
	}
	if err := delivery.CheckCombine(e.Delivery, time.Duration(e.CombineInterval)); err != nil && e.Global {
		errs = append(errs, delivery.Prefix("delivery:", err))
	}
	if !e.Global && !e.Delivery.IsZero() {
		errs = append(errs, errors.New("delivery: is the global script's (global = true), which is off; each [[domain]] has a delivery table of its own ([domain.delivery])"))
	}
	if e.Off() != "" {
		errs = append(errs, errors.New("neither global nor per_domain is on; turn one on (or remove the [http_events] section)"))
	}
	return errors.Join(errs...)
}

// SaveToSession implements hook.SessionSaver.
func (e *Events) SaveToSession() bool { return e.SaveSession }

// Effective returns the section as it runs: timeout 0 is the [delivery]
// timeout (requestTimeout). `hookd config` and the admin page show it.
func (e *Events) Effective(requestTimeout time.Duration, _ func(string) (hook.Module, bool)) any {
	c := *e
	c.targets, c.live = nil, nil
	if c.Timeout == 0 {
		c.Timeout = hook.Duration(requestTimeout)
	}
	return &c
}

// Off says why the section is off, or "" when it is on: neither global
// nor per_domain is on. The proxy treats such a section as off, not as a
// mistake, and so does hookd (with one log line at start).
func (e *Events) Off() string {
	if !e.Global && !e.PerDomain {
		return "neither global nor per_domain is on"
	}
	return ""
}

// effectiveDomain is a [[domain]] entry as it runs: a URL script has no
// plugin block, a plugin's limits have their defaults filled in, and
// strict and combine_interval are the [http_events] values when the entry
// does not set its own.
type effectiveDomain struct {
	ID              string                 `toml:"id"`
	Script          string                 `toml:"script"`
	Strict          bool                   `toml:"strict"`
	CombineInterval hook.Duration          `toml:"combine_interval"`
	Plugin          *wasmscript.Settings   `toml:"plugin,omitempty"`
	Config          map[string]any         `toml:"config,omitempty"`
	Delivery        *hook.DeliverySettings `toml:"delivery,omitempty"`
}

// Effective returns the entries as they run (see effectiveDomain).
func (ds *Domains) Effective(_ time.Duration, lookup func(string) (hook.Module, bool)) any {
	var ev Events
	if m, ok := lookup(ID); ok {
		if e, ok := m.(*Events); ok && e != nil {
			ev = *e
		}
	}
	out := make([]effectiveDomain, 0, len(*ds))
	for _, d := range *ds {
		ed := effectiveDomain{ID: d.ID, Script: d.Script, Strict: ev.PerDomainStrict, CombineInterval: ev.CombineInterval, Config: d.Config}
		if d.Strict != nil {
			ed.Strict = *d.Strict
		}
		if d.CombineInterval != nil {
			ed.CombineInterval = *d.CombineInterval
		}
		if d.IsPlugin() {
			s := d.Plugin.Effective()
			ed.Plugin = &s
		}
		if !d.Delivery.IsZero() {
			ed.Delivery = &d.Delivery
		}
		out = append(out, ed)
	}
	return out
}

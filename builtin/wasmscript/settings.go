package wasmscript

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// IsPlugin reports whether a domain's script names a WebAssembly plugin (a
// path ending in .wasm) rather than a URL.
func IsPlugin(script string) bool { return strings.HasSuffix(strings.ToLower(script), ".wasm") }

// Settings are a plugin's limits and capabilities, the [domain.plugin]
// table. Zero values take the defaults of hostapi/ABI.md ("Limits").
type Settings struct {
	// MemoryPages is the most linear memory, in 64 KiB pages, 2 to 32768;
	// Go plugins need at least 64. Defaults to 256 (16 MiB).
	MemoryPages uint32 `toml:"memory_pages" json:"memory_pages,omitempty"`
	// Timeout bounds one call, 1ms to 1m. Defaults to 250ms.
	Timeout hook.Duration `toml:"timeout" json:"timeout,omitempty"`
	// MaxReply is the largest reply in bytes, up to 1 MiB. Defaults to
	// 16 KiB.
	MaxReply int `toml:"max_reply" json:"max_reply,omitempty"`
	// Instances is the size of the warm pool, up to 256. Defaults to 4.
	Instances int `toml:"instances" json:"instances,omitempty"`
	// Keys are key files in the private directory the plugin may sign
	// with, by name (jwt_sign). Defaults to none.
	Keys []string `toml:"keys" json:"keys,omitempty"`
	// HTTPAllow lists the origins ("https://api.example.com") the plugin
	// may call (http_request). Defaults to none: no HTTP.
	HTTPAllow []string `toml:"http_allow" json:"http_allow,omitempty"`
	// AllowPrivate lists private CIDRs the plugin may reach despite the
	// SSRF guard. Defaults to none.
	AllowPrivate []string `toml:"allow_private" json:"allow_private,omitempty"`
	// HTTPTimeout bounds one request. Defaults to 5s.
	HTTPTimeout hook.Duration `toml:"http_timeout" json:"http_timeout,omitempty"`
	// HTTPMaxRequests bounds the requests of one call. Defaults to 4.
	HTTPMaxRequests int `toml:"http_max_requests" json:"http_max_requests,omitempty"`
	// HTTPMaxResponse bounds the bytes kept of a response. Defaults to
	// 1 MiB.
	HTTPMaxResponse int64 `toml:"http_max_response" json:"http_max_response,omitempty"`
	// SHA256 pins the plugin binary: the hex SHA-256 (sha256sum) the .wasm
	// file must have, at start and at every reload; another file is
	// refused, and on reload the running version keeps serving. Defaults
	// to "" (any binary).
	SHA256 string `toml:"sha256" json:"sha256,omitempty"`
	// State grants durable state (state_get, state_set, state_incr,
	// state_delete), kept in hookd's store under the domain's id.
	// Defaults to false: those calls return ERR_DENIED.
	State bool `toml:"state" json:"state,omitempty"`
	// StateMaxValue bounds one value in bytes, 32 to 1 MiB. Defaults to
	// 64 KiB.
	StateMaxValue int `toml:"state_max_value" json:"state_max_value,omitempty"`
	// StateMaxKeys bounds the domain's keys, 1 to 1,000,000. Defaults to
	// 10,000.
	StateMaxKeys int `toml:"state_max_keys" json:"state_max_keys,omitempty"`
	// StateMaxBytes bounds the domain's keys and values together, 1 KiB
	// to 1 GiB. Defaults to 16 MiB.
	StateMaxBytes int64 `toml:"state_max_bytes" json:"state_max_bytes,omitempty"`

	state stateBinding // the store state = true grants: see WithState
}

// Empty reports whether no setting is given.
func (s *Settings) Empty() bool {
	return s.MemoryPages == 0 && s.Timeout == 0 && s.MaxReply == 0 && s.Instances == 0 && len(s.Keys) == 0 &&
		len(s.HTTPAllow) == 0 && len(s.AllowPrivate) == 0 && s.HTTPTimeout == 0 && s.HTTPMaxRequests == 0 && s.HTTPMaxResponse == 0 &&
		s.SHA256 == "" && s.stateEmpty()
}

// Validate checks ranges without I/O; each error starts with its key.
func (s *Settings) Validate() error {
	var errs []error
	if s.MemoryPages != 0 && (s.MemoryPages < 2 || s.MemoryPages > hostapi.MaxMemoryPages) {
		errs = append(errs, fmt.Errorf("memory_pages: must be between 2 and %d (64 KiB pages; Go plugins need at least 64), got %d", hostapi.MaxMemoryPages, s.MemoryPages))
	}
	if t := time.Duration(s.Timeout); t != 0 && (t < time.Millisecond || t > time.Minute) {
		errs = append(errs, fmt.Errorf("timeout: must be between 1ms and 1m, got %s", t))
	}
	if s.MaxReply < 0 || s.MaxReply > 1<<20 {
		errs = append(errs, fmt.Errorf("max_reply: must be between 0 (default 16 KiB) and 1 MiB, got %d", s.MaxReply))
	}
	if s.Instances < 0 || s.Instances > hostapi.MaxInstances {
		errs = append(errs, fmt.Errorf("instances: must be between 0 (default 4) and %d, got %d", hostapi.MaxInstances, s.Instances))
	}
	if _, err := outbound.ParsePrefixes(s.AllowPrivate); err != nil {
		errs = append(errs, fmt.Errorf("allow_private: %w", err))
	}
	if s.HTTPMaxRequests < 0 || s.HTTPMaxResponse < 0 || s.HTTPTimeout < 0 {
		errs = append(errs, errors.New("http_timeout, http_max_requests and http_max_response must not be negative"))
	}
	for _, k := range s.Keys {
		if k == "" {
			errs = append(errs, errors.New("keys: a key name is empty"))
		}
	}
	if err := wasmhost.ValidSHA256(s.SHA256); err != nil {
		errs = append(errs, err)
	}
	if err := s.validateState(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// limits returns the engine's limits (zero fields: its defaults).
func (s *Settings) limits() wasmhost.Limits {
	return wasmhost.Limits{MemoryPages: s.MemoryPages, Timeout: time.Duration(s.Timeout), MaxReply: s.MaxReply, Instances: s.Instances,
		SHA256: s.SHA256}
}

// grants builds the plugin's capabilities: its config, the keys it may
// sign with (loaded from privateDir), its HTTP allow-list (its requests
// seen first by intercept, when set). The caller closes grants.HTTP
// after the plugin.
func (s *Settings) grants(config map[string]any, privateDir, userAgent string,
	intercept func(*http.Request) (*outbound.Response, error)) (hostfn.Grants, error) {
	g := hostfn.Grants{}
	if config != nil {
		b, err := json.Marshal(config)
		if err != nil {
			return g, fmt.Errorf("config: %w", err)
		}
		g.Config = b
	}
	if len(s.Keys) > 0 {
		keys := map[string]*jwtsign.Key{}
		for _, name := range s.Keys {
			k, err := jwtsign.LoadKey(privateDir, name, "")
			if err != nil {
				return g, fmt.Errorf("plugin.keys: %w", err)
			}
			keys[name] = k
		}
		g.Sign, g.Keys = wasmhost.KeySigner(keys)
	}
	st, err := s.stateGrant()
	if err != nil {
		return g, err
	}
	g.State = st
	if len(s.HTTPAllow) > 0 {
		allow, err := outbound.ParsePrefixes(s.AllowPrivate)
		if err != nil {
			return g, fmt.Errorf("plugin.allow_private: %w", err)
		}
		h, err := hostfn.NewHTTP(hostfn.HTTPOptions{Allow: s.HTTPAllow, AllowPrivate: allow,
			Timeout: time.Duration(s.HTTPTimeout), MaxRequests: s.HTTPMaxRequests,
			MaxResponse: s.HTTPMaxResponse, UserAgent: userAgent, Intercept: intercept})
		if err != nil {
			return g, fmt.Errorf("plugin.http_allow: %w", err)
		}
		g.HTTP = h
	}
	return g, nil
}

// Effective returns s with every default filled in: the limits a plugin
// runs with, for `hookd config` and the admin page, which show what runs
// rather than the zeros that stand for the defaults.
func (s Settings) Effective() Settings {
	s.state = stateBinding{}
	fill := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	if s.MemoryPages == 0 {
		s.MemoryPages = hostapi.DefaultMemoryPages
	}
	if s.Timeout == 0 {
		s.Timeout = hook.Duration(hostapi.DefaultTimeout)
	}
	fill(&s.MaxReply, hostapi.DefaultMaxReply)
	fill(&s.Instances, hostapi.DefaultInstances)
	if s.HTTPTimeout == 0 {
		s.HTTPTimeout = hook.Duration(hostapi.DefaultHTTPTimeout)
	}
	fill(&s.HTTPMaxRequests, hostapi.DefaultHTTPMaxRequests)
	if s.HTTPMaxResponse == 0 {
		s.HTTPMaxResponse = hostapi.DefaultHTTPMaxResponse
	}
	fill(&s.StateMaxValue, hostapi.DefaultStateMaxValue)
	fill(&s.StateMaxKeys, hostapi.DefaultStateMaxKeys)
	if s.StateMaxBytes == 0 {
		s.StateMaxBytes = hostapi.DefaultStateMaxBytes
	}
	return s
}

package jwtwebhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// ID is the module ID and the config section name.
const ID = "jwt_webhook"

// reservedClaims are set by hookd on every token; configuration may not
// set them.
var reservedClaims = []string{"iat", "exp", "jti", "event", "module", "server_id", "domain_id", "data"}

// Lifetime bounds: a token must outlive network delays and clock skew, and
// should not be replayable for long.
const (
	defaultLifetime = 300 * time.Second
	minLifetime     = 10 * time.Second
	maxLifetime     = 24 * time.Hour
)

// Events are the four switches of the seed's "Webhook Events".
type Events struct {
	UserCreate   bool `toml:"user_create"`
	UserDelete   bool `toml:"user_delete"`
	UserUndelete bool `toml:"user_undelete"`
	DomainDelete bool `toml:"domain_delete"`
}

// enabled maps EVENT names to the event claim for the switched-on events.
func (e Events) enabled() map[string]string {
	m := map[string]string{}
	if e.UserCreate {
		m["USER_CREATE"] = "user_create"
	}
	if e.UserDelete {
		m["USER_DELETE"] = "user_delete"
	}
	if e.UserUndelete {
		m["USER_UNDELETE"] = "user_undelete"
	}
	if e.DomainDelete {
		m["DOMAIN_DELETE"] = "domain_delete"
	}
	return m
}

// Claims are the configured extra claims: a TOML table, or a JSON object in
// a string (the seed's "JWT Claims (JSON)").
type Claims map[string]any

// UnmarshalTOML implements toml.Unmarshaler.
func (c *Claims) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			*c = nil
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil || m == nil {
			return fmt.Errorf("must be a TOML table or a JSON object string like {\"iss\":\"proxy\"}: %v", errOr(err, "not an object"))
		}
		*c = m
	case map[string]any:
		out, err := jsonable(v, "")
		if err != nil {
			return err
		}
		*c = out.(map[string]any)
	default:
		return fmt.Errorf("must be a TOML table or a JSON object string, got %T", v)
	}
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// jsonable converts a decoded TOML value into one JSON can carry exactly;
// TOML date-times have no JWT meaning and are refused.
func jsonable(v any, path string) (any, error) {
	switch v := v.(type) {
	case string, bool, int64, float64:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			y, err := jsonable(x, join(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := jsonable(x, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case []map[string]any: // an array of tables
		arr := make([]any, len(v))
		for i, x := range v {
			arr[i] = x
		}
		return jsonable(arr, path)
	default:
		return nil, fmt.Errorf("claim %q: a %T cannot be a JWT claim; use a string, number, boolean, array or table", path, v)
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// Validate checks the section without I/O (the key file is read by
// Provision). It refuses a section that is off ([Webhook.Off]), which the
// runtime does not validate: for the runtime such a section is simply
// off, while a caller that validates one means to use it.
func (w *Webhook) Validate() error {
	var errs []error
	if w.URL == "" {
		errs = append(errs, errors.New("url: required: the address JWT requests are POSTed to, e.g. https://my-integration.example/api"))
	} else if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: must be an absolute http:// or https:// URL, got %q", w.URL))
	}
	if w.PrivateKey == "" {
		errs = append(errs, errors.New("private_key: required: the file name of a PEM private key in storage.private_dir (symmetric secrets and unsigned requests are not supported)"))
	}
	for k := range w.Claims {
		if slices.Contains(reservedClaims, k) {
			errs = append(errs, fmt.Errorf("claims: %q is set by hookd on every token and cannot be configured; reserved: %s",
				k, strings.Join(reservedClaims, ", ")))
		}
	}
	if lt := time.Duration(w.Lifetime); lt != 0 && (lt < minLifetime || lt > maxLifetime) {
		errs = append(errs, fmt.Errorf("lifetime: must be between %s and %s, got %s", minLifetime, maxLifetime, time.Duration(w.Lifetime)))
	}
	if err := delivery.Validate(w.Delivery); err != nil {
		errs = append(errs, delivery.Prefix("delivery:", err))
	}
	if why := w.Off(); why != "" {
		errs = append(errs, errors.New("events: none is enabled; set at least one of events.user_create, events.user_delete, events.user_undelete, events.domain_delete to true (or remove the [jwt_webhook] section)"))
	}
	return errors.Join(errs...)
}

// lifetime is the configured token lifetime, or the default.
func (w *Webhook) lifetime() time.Duration {
	if w.Lifetime == 0 {
		return defaultLifetime
	}
	return time.Duration(w.Lifetime)
}

// Off says why the section is off, or "" when it is on: no event is
// enabled. The proxy treats a webhook with every event switched off as
// off, not as a mistake, and so does hookd (with one log line at start).
func (w *Webhook) Off() string {
	if len(w.Events.enabled()) == 0 {
		return "no event is enabled (events.user_create, events.user_delete, events.user_undelete, events.domain_delete)"
	}
	return ""
}

// Effective returns the section as it runs: lifetime 0 is the default
// 300s. `hookd config` and the admin page show it.
func (w *Webhook) Effective(time.Duration, func(string) (hook.Module, bool)) any {
	c := Webhook{URL: w.URL, PrivateKey: w.PrivateKey, Alg: w.Alg, Claims: w.Claims, Lifetime: w.Lifetime,
		PreviousKeys: w.PreviousKeys, Events: w.Events, Delivery: w.Delivery}
	if c.Lifetime == 0 {
		c.Lifetime = hook.Duration(defaultLifetime)
	}
	return &c
}

package hostfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Grants are the capabilities and the config one plugin is given. The zero
// value grants nothing beyond what every plugin has (see ABI.md,
// "Capabilities").
//
//	sign, keys := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
//	h, err := hostfn.NewHTTP(hostfn.HTTPOptions{Allow: []string{"https://api.example.com"}})
//	s, err := hostfn.NewState(store, "acme", hook.StateLimits{})
//	g := hostfn.Grants{Config: cfg, Sign: sign, Keys: keys, HTTP: h, State: s}
//
// # Notes
//
//   - Grants are shared by every call of the plugin: do not modify them
//     after the plugin is loaded.
type Grants struct {
	// Config is the plugin's own config table as a JSON object, returned by
	// config_read. nil reads as {}.
	Config json.RawMessage
	// Sign signs claims with the named key, for jwt_sign. nil denies
	// jwt_sign.
	Sign SignFunc
	// Keys are the key names the plugin may sign with (its keys = […]).
	Keys []string
	// HTTP is the plugin's outbound HTTP capability. nil denies
	// http_request.
	HTTP *HTTP
	// State is the plugin's durable state (state_get, state_set,
	// state_incr, state_delete). nil denies them.
	State *State
}

// SignFunc signs claims with the key named key and returns the compact
// token. The host has added iat, exp and jti by then; the function must not
// keep claims. It is called from many plugin calls at once.
type SignFunc func(ctx context.Context, key string, claims map[string]any) (string, error)

// Validate reports what is wrong with g: a config that is not one JSON
// object, key names that are empty or repeated, or keys without a signer.
func (g *Grants) Validate() error {
	if g == nil {
		return nil
	}
	if len(g.Config) > 0 {
		if err := checkObject(g.Config); err != nil {
			return fmt.Errorf("plugin config: %w", err)
		}
	}
	for i, k := range g.Keys {
		if k == "" {
			return fmt.Errorf("keys: entry %d is empty", i+1)
		}
		if slices.Index(g.Keys, k) != i {
			return fmt.Errorf("keys: %q is listed twice", k)
		}
	}
	if len(g.Keys) > 0 && g.Sign == nil {
		return errors.New("keys are granted but no signer is set")
	}
	return nil
}

// checkObject reports whether b is exactly one JSON object.
func checkObject(b []byte) error {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	if !json.Valid(b) {
		return errors.New("not valid JSON")
	}
	return nil
}

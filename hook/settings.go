package hook

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DeliverySettings are how one target is reached, whatever its kind
// (global events script, a domain's script, the JWT webhook, the WebAPI
// notification, the command sink): headers and signatures that tell the
// receiver who is calling, mutual TLS, an egress proxy, which events it
// receives, how fast, and in what order. Every module section that
// provides a target carries one as its `delivery` table:
//
//	[jwt_webhook.delivery]
//	headers = { Authorization = { file = "hook.token" }, "X-Tenant" = "acme" }
//	signing = "standard-webhooks"
//	signing_secrets = [{ file = "whsec.txt" }]
//	rate_limit = 50
//	ordered_by = "SESSIONID"
//
// and a stored domain the same keys in JSON ("delivery": {…}).
//
// This type is data only. internal/delivery owns its meaning: Validate
// (no I/O: at config load, in `hookd check`, for a stored domain), the
// compiled HTTP side (headers, signing, TLS, proxy, applied by the
// outbound client of the target) and the filter; the engine applies the
// rate limit and the order. No target kind re-implements any of it.
type DeliverySettings struct {
	// Headers are sent with every request, each a literal value or the
	// contents of a file in the private directory. Hop-by-hop headers,
	// the ones hookd sets itself and the signature's are refused.
	Headers map[string]Secret `toml:"headers" json:"headers,omitempty"`
	// Signing is "" (none) or "standard-webhooks": webhook-id,
	// webhook-timestamp and webhook-signature headers (standardwebhooks.com).
	Signing string `toml:"signing" json:"signing,omitempty"`
	// SigningSecrets are the v1 (HMAC-SHA256) secrets, "whsec_" + base64;
	// every one signs, so that a receiver rotating from one to the next
	// accepts both during the rotation.
	SigningSecrets []Secret `toml:"signing_secrets" json:"signing_secrets,omitempty"`
	// SigningKey is a PEM file in the private directory holding an
	// Ed25519 private key: the requests also carry a v1a signature, which
	// a receiver checks with the public key ("whpk_" + base64).
	SigningKey string `toml:"signing_key" json:"signing_key,omitempty"`
	// TLS is the client certificate for receivers that require mutual
	// TLS, and the CA the receiver's certificate must chain to.
	TLS TLSSettings `toml:"tls" json:"tls,omitzero"`
	// Proxy is the URL of an HTTP(S) proxy (CONNECT) the requests go
	// through; "" uses [delivery] proxy, "direct" none.
	Proxy string `toml:"proxy" json:"proxy,omitempty"`
	// Filter selects the events the target receives; the others create
	// no delivery.
	Filter EventFilter `toml:"filter" json:"filter,omitzero"`
	// RateLimit is the most requests per second to the target, across
	// the nodes; 0 is no limit. Deliveries wait for it, never fail.
	RateLimit float64 `toml:"rate_limit" json:"rate_limit,omitempty"`
	// Burst is how many requests may go at once after a quiet spell.
	// Defaults to 1.
	Burst int `toml:"burst" json:"burst,omitempty"`
	// OrderedBy names the event field whose value orders deliveries
	// ("SESSIONID", "DOMAIN_ID"): at most one delivery per value in
	// flight, in commit order; a failing one holds only its own value.
	OrderedBy string `toml:"ordered_by" json:"ordered_by,omitempty"`
}

// IsZero reports whether s sets nothing.
func (s *DeliverySettings) IsZero() bool {
	return s == nil || (len(s.Headers) == 0 && s.Signing == "" && len(s.SigningSecrets) == 0 && s.SigningKey == "" &&
		s.TLS == (TLSSettings{}) && s.Proxy == "" && s.Filter.IsZero() && s.RateLimit == 0 && s.Burst == 0 && s.OrderedBy == "")
}

// TLSSettings are a target's mutual TLS files, in the private directory.
type TLSSettings struct {
	// ClientCert and ClientKey are PEM files: the certificate (chain)
	// hookd presents and its private key (mode rules as for signing keys).
	ClientCert string `toml:"client_cert" json:"client_cert,omitempty"`
	ClientKey  string `toml:"client_key" json:"client_key,omitempty"`
	// CA is a PEM file of the certificates the receiver's must chain to;
	// "" uses the system roots.
	CA string `toml:"ca" json:"ca,omitempty"`
}

// EventFilter selects events by name and by field values. Zero matches
// every event.
type EventFilter struct {
	// Events are the event names the target receives, compared with
	// [Event.Name] (canonical spelling); "MODULE.*" or "MODULE.EVENT"
	// also match by module. Empty: every event.
	Events []string `toml:"events" json:"events,omitempty"`
	// Where holds conditions on fields, all of which must hold: the
	// field's value is one of the listed values (a single string is a
	// list of one); a value "!x" excludes x.
	//
	//	where = { DOMAIN_ID = ["1", "42"], reasonSoftwareType = "ISL Light" }
	Where map[string]Values `toml:"where" json:"where,omitempty"`
}

// IsZero reports whether f matches every event.
func (f EventFilter) IsZero() bool { return len(f.Events) == 0 && len(f.Where) == 0 }

// Values is a list of strings that config may also spell as one string.
type Values []string

// UnmarshalTOML accepts a string or an array of strings.
func (v *Values) UnmarshalTOML(x any) error {
	switch x := x.(type) {
	case string:
		*v = Values{x}
		return nil
	case []any:
		out := make(Values, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("item %d is %T: a string or an array of strings is allowed", i, e)
			}
			out = append(out, s)
		}
		*v = out
		return nil
	}
	return fmt.Errorf("%T: a string or an array of strings is allowed", x)
}

// UnmarshalJSON accepts a string or an array of strings. null sets
// nothing (as for any JSON value) rather than reading as "", which in a
// filter would mean "the field is missing"; a null item is refused.
func (v *Values) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Values{s}
		return nil
	}
	var l []*string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("a string or an array of strings is allowed")
	}
	out := make(Values, len(l))
	for i, e := range l {
		if e == nil {
			return fmt.Errorf("item %d is null: a string or an array of strings is allowed", i)
		}
		out[i] = *e
	}
	*v = out
	return nil
}

// isNull reports whether b is the JSON literal null.
func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// Secret is a value given literally or read from a file in the private
// directory: `"text"` or `{ file = "name" }` (JSON: "text" or
// {"file": "name"}). Exactly one of Value and File is set.
type Secret struct {
	Value string `toml:"value,omitempty" json:"value,omitempty"`
	File  string `toml:"file,omitempty" json:"file,omitempty"`
}

// UnmarshalTOML accepts a string (the value) or a table with one key,
// file (or value).
func (s *Secret) UnmarshalTOML(x any) error {
	switch x := x.(type) {
	case string:
		*s = Secret{Value: x}
		return nil
	case map[string]any:
		var out Secret
		for k, e := range x {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("%s is %T: a string is allowed", k, e)
			}
			switch k {
			case "file":
				out.File = str
			case "value":
				out.Value = str
			default:
				return fmt.Errorf("unknown key %q: a string, { file = \"name\" } or { value = \"…\" } is allowed", k)
			}
		}
		if (out.File == "") == (out.Value == "") {
			return fmt.Errorf(`exactly one of file and value is allowed`)
		}
		*s = out
		return nil
	}
	return fmt.Errorf(`%T: a string, { file = "name" } or { value = "…" } is allowed`, x)
}

// UnmarshalJSON accepts a string (the value) or {"file": "name"}.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil // as for any JSON value; Validate refuses an empty Secret
	}
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = Secret{Value: str}
		return nil
	}
	type plain Secret
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf(`a string, {"file": "name"} or {"value": "…"} is allowed`)
	}
	if (p.File == "") == (p.Value == "") {
		return fmt.Errorf(`exactly one of file and value is allowed`)
	}
	*s = Secret(p)
	return nil
}

// MarshalJSON writes a literal value as a string and a file as
// {"file": "name"}, the forms UnmarshalJSON reads. Redaction is the
// viewer's job (internal/delivery), not this type's: stored domains are
// written with it.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.File != "" {
		return json.Marshal(map[string]string{"file": s.File})
	}
	return json.Marshal(s.Value)
}

// DeliveryView is a target's delivery settings as operators and domain
// owners see them (the targets API, the admin page, the portal): what is
// set and why it acts as it does, never a secret. internal/delivery
// builds it.
type DeliveryView struct {
	Headers []string `json:"headers,omitempty"` // names only, e.g. "Authorization (from file hook.token)"
	Signing string   `json:"signing,omitempty"` // e.g. "standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem"
	// PublicKey is the v1a public key receivers verify the signatures
	// with, "whpk_" + base64 (not a secret); "" without signing_key, or
	// when the key file cannot be read now.
	PublicKey string `json:"public_key,omitempty"`
	TLS       string `json:"tls,omitempty"`        // e.g. "client certificate client.pem (CN=hookd), CA ca.pem"
	Proxy     string `json:"proxy,omitempty"`      // e.g. "http://egress:3128 (from [delivery] proxy)"
	Filter    string `json:"filter,omitempty"`     // e.g. "events NEWSESSION, SESSION_END; DOMAIN_ID in [1 42]"
	RateLimit string `json:"rate_limit,omitempty"` // e.g. "50/s, burst 10: 25/s on this node of 2"
	OrderedBy string `json:"ordered_by,omitempty"` // the field
}

package delivery

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hookrt/hookd/hook"
)

// CheckOwner refuses what a domain token may not set in its domain's
// delivery settings: files in the private directory (a header or signing
// secret from a file, signing_key, tls.*), which hold the operator's
// secrets and which a domain owner must not be able to send to its own
// URL, and proxy, which decides the operator's egress. Literal header
// values and signing secrets are the domain owner's own and allowed.
//
//	if byDomainToken {
//		if err := delivery.CheckOwner(&d.Delivery); err != nil {
//			return fmt.Errorf("delivery: %w", err)
//		}
//	}
//
// Every refusal is reported, each naming its key, like [Validate]'s.
func CheckOwner(s *hook.DeliverySettings) error {
	if s == nil {
		return nil
	}
	const why = "a domain token may not name files in the private directory: give the value itself, or ask the operator"
	var p problems
	for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
		if s.Headers[name].File != "" {
			p.addf(fmt.Sprintf("headers.%q", name), "%s", why)
		}
	}
	for i, sec := range s.SigningSecrets {
		if sec.File != "" {
			p.addf(fmt.Sprintf("signing_secrets[%d]", i), "%s", why)
		}
	}
	for _, f := range []struct{ key, name string }{
		{"signing_key", s.SigningKey},
		{"tls.client_cert", s.TLS.ClientCert}, {"tls.client_key", s.TLS.ClientKey}, {"tls.ca", s.TLS.CA},
	} {
		if f.name != "" {
			p.addf(f.key, "%s", why)
		}
	}
	if s.Proxy != "" {
		p.addf("proxy", "a domain token may not set the egress proxy: the operator's [delivery] proxy applies")
	}
	return p.err()
}

package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// checkOwnerDelivery refuses, for a domain token, the delivery settings
// that only the operator may set (delivery.CheckOwner: files in the
// private directory, which hold the operator's secrets and which the
// owner could otherwise have sent to its own URL, and the egress proxy),
// beyond what the operator has set for the domain already: as with the
// plugin grants (checkGrants), an owner may keep what the operator set,
// so that a GET, edit, PUT round trip works.
func (s *domainsState) checkOwnerDelivery(ctx context.Context, who hook.Principal, id string, d hook.DeliverySettings) error {
	if who.IsOperator() || delivery.CheckOwner(&d) == nil {
		return nil
	}
	var base hook.DeliverySettings
	row, err := s.db.StoredDomain(ctx, id)
	switch {
	case err == nil:
		if cur, _, err := decodeDomain(id, row.Spec); err == nil {
			base = cur.Delivery
		}
	case !errors.Is(err, hook.ErrNotFound):
		return err
	}
	rest := withoutKept(d, base)
	if err := delivery.CheckOwner(&rest); err != nil {
		return hook.Invalid("%s", delivery.Prefix(fmt.Sprintf("domain %q: delivery:", id), err))
	}
	return nil
}

// withoutKept returns d without the operator-only settings that base,
// the domain's stored settings, holds the same: a header from the same
// file, a signing secret file base lists, the same signing_key, tls file
// or proxy. What is left is what the writer sets anew.
func withoutKept(d, base hook.DeliverySettings) hook.DeliverySettings {
	out := d
	out.Headers = make(map[string]hook.Secret, len(d.Headers))
	for name, v := range d.Headers {
		if v.File != "" && headerFile(base.Headers, name) == v.File {
			continue
		}
		out.Headers[name] = v
	}
	out.SigningSecrets = slices.DeleteFunc(slices.Clone(d.SigningSecrets), func(sec hook.Secret) bool {
		return sec.File != "" && slices.Contains(base.SigningSecrets, sec)
	})
	keep := func(v, b string) string {
		if v == b {
			return ""
		}
		return v
	}
	out.SigningKey = keep(d.SigningKey, base.SigningKey)
	out.TLS.ClientCert = keep(d.TLS.ClientCert, base.TLS.ClientCert)
	out.TLS.ClientKey = keep(d.TLS.ClientKey, base.TLS.ClientKey)
	out.TLS.CA = keep(d.TLS.CA, base.TLS.CA)
	out.Proxy = keep(d.Proxy, base.Proxy)
	return out
}

// headerFile is the file header name's value is read from in headers
// (names compared without regard to case), "" when none.
func headerFile(headers map[string]hook.Secret, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v.File
		}
	}
	return ""
}

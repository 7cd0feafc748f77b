package delivery

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
)

// View describes s for operators and domain owners (the targets API, the
// admin page, the portal, `hookd targets`): what is set, header names and
// file names, never a value or a secret. defaultProxy is [delivery]
// proxy, shown where the target takes it. nil when nothing is set and no
// default proxy applies.
//
//	v := delivery.View(t.Delivery, env.DeliveryProxy)
//	// v.Signing: "standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem"
//
// # Notes
//
//   - View does no I/O: it names the key file rather than showing the
//     public key; [HTTP.PublicKey] has that once the target is built.
//   - RateLimit says the configured limit; the engine, which knows the
//     nodes, appends the share of this node.
//   - It describes what is set, valid or not; call [Validate] first to
//     know whether it is.
func View(s *hook.DeliverySettings, defaultProxy string) *hook.DeliveryView {
	proxy := viewProxy(s, defaultProxy)
	if s.IsZero() && proxy == "" {
		return nil
	}
	v := &hook.DeliveryView{Proxy: proxy}
	if s == nil {
		return v
	}
	for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
		if f := s.Headers[name].File; f != "" {
			v.Headers = append(v.Headers, fmt.Sprintf("%s (from file %s)", name, f))
		} else {
			v.Headers = append(v.Headers, name)
		}
	}
	v.Signing = viewSigning(s)
	v.TLS = viewTLS(s.TLS)
	v.Filter = viewFilter(s.Filter)
	if s.RateLimit != 0 {
		burst := max(s.Burst, 1)
		v.RateLimit = fmt.Sprintf("%s/s, burst %d", strconv.FormatFloat(s.RateLimit, 'f', -1, 64), burst)
	}
	v.OrderedBy = s.OrderedBy
	return v
}

func viewSigning(s *hook.DeliverySettings) string {
	if s.Signing == "" {
		return ""
	}
	var parts []string
	switch n := len(s.SigningSecrets); n {
	case 0:
	case 1:
		parts = append(parts, "v1 with 1 secret"+secretFiles(s.SigningSecrets))
	default:
		parts = append(parts, fmt.Sprintf("v1 with %d secrets (rotation)%s", n, secretFiles(s.SigningSecrets)))
	}
	if s.SigningKey != "" {
		parts = append(parts, "v1a with the Ed25519 key in "+s.SigningKey)
	}
	if len(parts) == 0 {
		return s.Signing
	}
	return s.Signing + ": " + strings.Join(parts, ", ")
}

// secretFiles names the files secrets come from: " (files a, b)".
func secretFiles(secrets []hook.Secret) string {
	var files []string
	for _, s := range secrets {
		if s.File != "" {
			files = append(files, s.File)
		}
	}
	switch len(files) {
	case 0:
		return ""
	case 1:
		return " from file " + files[0]
	}
	return " from files " + strings.Join(files, ", ")
}

func viewTLS(t hook.TLSSettings) string {
	var parts []string
	if t.ClientCert != "" || t.ClientKey != "" {
		parts = append(parts, fmt.Sprintf("client certificate %s, key %s", t.ClientCert, t.ClientKey))
	}
	if t.CA != "" {
		parts = append(parts, "CA "+t.CA)
	}
	return strings.Join(parts, "; ")
}

// viewProxy says which proxy the target uses and where that comes from.
func viewProxy(s *hook.DeliverySettings, defaultProxy string) string {
	own := ""
	if s != nil {
		own = s.Proxy
	}
	switch {
	case own == ProxyDirect && defaultProxy != "" && defaultProxy != ProxyDirect:
		return "direct (not [delivery] proxy)"
	case own == ProxyDirect:
		return ProxyDirect
	case own != "":
		return redactURL(own)
	case defaultProxy != "" && defaultProxy != ProxyDirect:
		return redactURL(defaultProxy) + " (from [delivery] proxy)"
	}
	return ""
}

// redactURL hides a password in a proxy URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

func viewFilter(f hook.EventFilter) string {
	var parts []string
	if len(f.Events) > 0 {
		parts = append(parts, "events "+strings.Join(f.Events, ", "))
	}
	for _, field := range slices.Sorted(maps.Keys(f.Where)) {
		var in, out []string
		for _, v := range f.Where[field] {
			if x, ok := strings.CutPrefix(v, "!"); ok {
				out = append(out, strconv.Quote(x))
			} else {
				in = append(in, strconv.Quote(v))
			}
		}
		if len(in) > 0 {
			parts = append(parts, fmt.Sprintf("%s in [%s]", field, strings.Join(in, " ")))
		}
		if len(out) > 0 {
			parts = append(parts, fmt.Sprintf("%s not in [%s]", field, strings.Join(out, " ")))
		}
	}
	return strings.Join(parts, "; ")
}

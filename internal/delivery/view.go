package delivery

import (
	"crypto/ed25519"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
)

// View is [ViewEnv] without the private directory: the v1a public key is
// left out (there is no file to read it from). Callers that know
// storage.private_dir call ViewEnv.
//
//	v := delivery.View(t.Delivery, env.DeliveryProxy)
func View(s *hook.DeliverySettings, defaultProxy string) *hook.DeliveryView {
	return ViewEnv(s, Env{Proxy: defaultProxy})
}

// ViewEnv describes s for operators and domain owners (the targets API,
// the admin page, the portal, `hookd targets`): what is set, header names
// and file names, never a value or a secret; and the v1a public key
// ("whpk_…"), which receivers need to verify the signatures and is not a
// secret. env.Proxy is [delivery] proxy, shown where the target takes it;
// env.PrivateDir is where the signing key is read from. nil when nothing
// is set and no default proxy applies.
//
//	v := delivery.ViewEnv(t.Delivery, delivery.Env{PrivateDir: cfg.Storage.PrivateDir, Proxy: cfg.Delivery.Proxy})
//	// v.Signing: "standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem"
//	// v.PublicKey: "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
//
// # Notes
//
//   - The public key is computed here, the one place every view is built,
//     from the key file as [Build] reads it (the private directory's rule,
//     internal/secretfile): a key the target could not sign with is not
//     shown. When the file cannot be read now (or PrivateDir is ""),
//     PublicKey is empty and Signing says so; `hookd check` says why.
//   - The file is read at each call: a view shows the file as it is now,
//     which is what the target signs with once it is built again.
//   - RateLimit says the configured limit; the engine, which knows the
//     nodes, appends the share of this node.
//   - It describes what is set, valid or not; call [Validate] first to
//     know whether it is.
func ViewEnv(s *hook.DeliverySettings, env Env) *hook.DeliveryView {
	proxy := viewProxy(s, env.Proxy)
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
	if s.Signing != "" && s.SigningKey != "" && env.PrivateDir != "" {
		if key, err := readEd25519(env.PrivateDir, s.SigningKey); err == nil {
			v.PublicKey = PublicKey(key.Public().(ed25519.PublicKey))
		} else {
			v.Signing += " (its public key cannot be read now: see hookd check)"
		}
	}
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

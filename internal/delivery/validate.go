package delivery

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Values and bounds of the settings.
const (
	// SigningStandardWebhooks is the one signing scheme (standardwebhooks.com).
	SigningStandardWebhooks = "standard-webhooks"
	// ProxyDirect in a target's proxy opts out of [delivery] proxy.
	ProxyDirect = "direct"
	// MaxSigningSecrets bounds signing_secrets: a rotation needs two, every
	// one costs an HMAC per request.
	MaxSigningSecrets = 8
	// MaxRateLimit and MaxBurst bound rate_limit (requests per second) and
	// burst: beyond them a limit limits nothing a receiver would notice.
	MaxRateLimit = 100000
	MaxBurst     = 10000
)

// Validate judges s without I/O: the files it names are read by [Build].
// nil and the zero value are valid (nothing set).
//
//	if err := delivery.Validate(&cfg.Delivery); err != nil {
//		return fmt.Errorf("[jwt_webhook.delivery] %w", err)
//	}
//
// # Notes
//
//   - Every problem is reported, one per line (errors.Join), each naming
//     its key as the TOML spells it (`headers."Connection"`,
//     `signing_secrets[1]`, `filter.where."DOMAIN_ID"`) and saying what is
//     allowed. Secrets are never quoted.
//   - A literal signing secret is decoded ([ParseSecret]); a file's is
//     not, until Build reads it.
//   - ordered_by with a combined target is the caller's to refuse: see
//     [CheckCombine].
func Validate(s *hook.DeliverySettings) error {
	if s == nil {
		return nil
	}
	var p problems
	checkHeaders(&p, s.Headers)
	checkSigning(&p, s)
	checkTLS(&p, s.TLS)
	if s.Proxy != "" {
		if err := CheckProxy(s.Proxy); err != nil {
			p.add("proxy", err)
		}
	}
	checkFilter(&p, s.Filter)
	checkRate(&p, s.RateLimit, s.Burst)
	if s.OrderedBy != "" {
		if err := hook.CheckFieldName(s.OrderedBy); err != nil {
			p.addf("ordered_by", "%v: the name of an event field is allowed (e.g. SESSIONID, DOMAIN_ID)", err)
		}
	}
	return p.err()
}

// CheckCombine refuses ordered_by on a target whose events are combined
// (combine_interval): a combined target already sends its events in
// order, one request at a time, so an order per key would only hold it
// up. The modules call it beside [Validate] with the target's interval.
func CheckCombine(s *hook.DeliverySettings, combine time.Duration) error {
	if s == nil || s.OrderedBy == "" || combine <= 0 {
		return nil
	}
	return fmt.Errorf("ordered_by: not allowed with combine_interval (%s): a combined target already sends its events in order, one request at a time", combine)
}

// CheckProxy judges a proxy setting, a target's or [delivery] proxy:
// "direct", or an http:// or https:// URL with a host and a port and
// nothing after them. User and password in the URL are allowed (sent as
// Proxy-Authorization) and shown redacted.
func CheckProxy(raw string) error {
	_, err := parseProxy(raw)
	return err
}

// parseProxy returns the proxy's URL, nil for "direct" and "".
func parseProxy(raw string) (*url.URL, error) {
	if raw == "" || raw == ProxyDirect {
		return nil, nil
	}
	const allowed = `"direct" or an http:// or https:// URL with host and port (http://egress.example:3128) is allowed`
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %s", allowed)
	}
	shown := u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: %s", shown, allowed)
	case u.Opaque != "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host: %s", shown, allowed)
	case u.Port() == "":
		return nil, fmt.Errorf("%q has no port: %s", shown, allowed)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%q has a path, query or fragment: %s", shown, allowed)
	}
	if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("%q: the port must be 1 to 65535", shown)
	}
	return u, nil
}

// checkTLS judges the mutual TLS files: the certificate and its key come
// together; the CA alone is allowed (a receiver with its own CA).
func checkTLS(p *problems, t hook.TLSSettings) {
	if (t.ClientCert == "") != (t.ClientKey == "") {
		p.addf("tls", "client_cert and client_key go together: give both, or neither")
	}
	for _, f := range []struct{ key, name string }{
		{"tls.client_cert", t.ClientCert}, {"tls.client_key", t.ClientKey}, {"tls.ca", t.CA},
	} {
		if f.name != "" {
			if err := checkFileName(f.name); err != nil {
				p.add(f.key, err)
			}
		}
	}
}

// checkRate judges rate_limit and burst.
func checkRate(p *problems, limit float64, burst int) {
	switch {
	case math.IsNaN(limit) || limit < 0 || limit > MaxRateLimit:
		p.addf("rate_limit", "%v: 0 (no limit) or more than 0 and at most %d requests per second is allowed", limit, MaxRateLimit)
	}
	switch {
	case burst < 0 || burst > MaxBurst:
		p.addf("burst", "%d: 0 to %d is allowed (0 is 1)", burst, MaxBurst)
	case burst > 0 && limit == 0:
		p.addf("burst", "burst without rate_limit: set rate_limit, or remove burst")
	}
}

// problems collects what Validate finds, each under its key.
type problems struct{ errs []error }

func (p *problems) add(key string, err error) {
	p.errs = append(p.errs, fmt.Errorf("%s: %w", key, err))
}

func (p *problems) addf(key, format string, args ...any) {
	p.add(key, fmt.Errorf(format, args...))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// Prefix puts section before every problem of err, one per line, where
// fmt.Errorf("%s %w", section, err) would prefix only the first line of
// a joined error:
//
//	return delivery.Prefix("[jwt_webhook.delivery]", delivery.Validate(&c.Delivery))
//
// nil stays nil; errors.Is and errors.As still reach every problem.
func Prefix(section string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = fmt.Errorf("%s %w", section, e)
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s %w", section, err)
}

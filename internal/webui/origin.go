package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SameOrigin checks that a state-changing request comes from a page of
// this origin: Sec-Fetch-Site, when the browser sends it, must say
// same-origin; Origin, or when there is none Referer, must name this
// host. A request with neither is refused: every browser sends Origin
// with a POST, and a same-origin Referer is kept by the page's
// Referrer-Policy.
func SameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("the request came from another site (Sec-Fetch-Site: %s)", Cut(site, 40))
	}
	from, header := r.Header.Get("Origin"), "Origin"
	if from == "" || from == "null" {
		from, header = r.Header.Get("Referer"), "Referer"
	}
	if from == "" {
		return errors.New("the request has neither an Origin nor a Referer header naming this site")
	}
	u, err := url.Parse(from)
	if err != nil || u.Host == "" {
		return fmt.Errorf("its %s %q is not a URL", header, Cut(from, 80))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Behind a TLS-terminating proxy the page is https while this request
	// is not: an https origin of the same host is still this site.
	if !strings.EqualFold(u.Host, r.Host) || (u.Scheme != scheme && u.Scheme != "https") {
		return fmt.Errorf("its %s %s is not this site (%s://%s)", header, Cut(u.Scheme+"://"+u.Host, 80), scheme, Cut(r.Host, 80))
	}
	return nil
}

// ViaTLS reports whether the browser reached the page over TLS: this
// connection is TLS, or the proxy in front says the browser's was
// (X-Forwarded-Proto: https, or Forwarded: proto=https). hookd serves
// plain HTTP, so behind a TLS-terminating proxy r.TLS is always nil. The
// headers are trusted without knowing the proxy: a forged one only makes
// the cookie stricter (the browser then sends it over https only), it
// cannot expose it.
func ViaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	// The first value is the one the proxy nearest the browser set.
	if v := r.Header.Get("X-Forwarded-Proto"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		return strings.EqualFold(strings.TrimSpace(first), "https")
	}
	if v := r.Header.Get("Forwarded"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		for pair := range strings.SplitSeq(first, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if strings.EqualFold(k, "proto") {
				return strings.EqualFold(strings.Trim(val, `"`), "https")
			}
		}
	}
	return false
}

// Back returns where an action sends the browser: field (a form's "back")
// when it is a path under prefix, else fallback. Anything else (an
// absolute URL, "//host", a backslash) could send the browser elsewhere,
// and is ignored.
func Back(prefix, field, fallback string) string {
	if len(field) > 2048 || !strings.HasPrefix(field, prefix) || strings.ContainsAny(field, "\\\r\n") ||
		strings.Contains(field, "//") {
		return fallback
	}
	if u, err := url.Parse(field); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return field
}

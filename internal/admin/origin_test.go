package admin

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCookieSecureOverTLS: the session cookie is Secure when the request
// came over TLS.
func TestCookieSecureOverTLS(t *testing.T) {
	t.Parallel()
	s := New(nopBackend{}, Options{}).(*server)
	r := httptest.NewRequest(http.MethodGet, "https://h.example/admin/", nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	c := w.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/admin/" {
		t.Errorf("cookies over TLS: %+v", c)
	}
}

// TestCookieSecureBehindTLSProxy: hookd serves plain HTTP, so a browser
// on https reaches it through a TLS-terminating proxy; the proxy's
// X-Forwarded-Proto (or Forwarded) header makes the cookie Secure. Before,
// only r.TLS did, which is never set behind a proxy.
func TestCookieSecureBehindTLSProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header, value string
		secure              bool
	}{
		{"X-Forwarded-Proto https", "X-Forwarded-Proto", "https", true},
		{"X-Forwarded-Proto HTTPS", "X-Forwarded-Proto", "HTTPS", true},
		{"X-Forwarded-Proto list, browser side first", "X-Forwarded-Proto", "https, http", true},
		{"X-Forwarded-Proto http", "X-Forwarded-Proto", "http", false},
		{"Forwarded proto=https", "Forwarded", `for=192.0.2.60;proto=https;by=203.0.113.43`, true},
		{"Forwarded quoted", "Forwarded", `proto="https"`, true},
		{"Forwarded proto=http", "Forwarded", `for=192.0.2.60;proto=http`, false},
		{"no header", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(nopBackend{}, Options{}).(*server)
			r := httptest.NewRequest(http.MethodGet, "http://h.example/admin/", nil)
			if tc.header != "" {
				r.Header.Set(tc.header, tc.value)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			c := w.Result().Cookies()
			if len(c) != 1 || c[0].Secure != tc.secure {
				t.Errorf("%s: %q: cookies %+v, want Secure %v", tc.header, tc.value, c, tc.secure)
			}
		})
	}
}

// TestTokenOK: only the exact token passes; the comparison is of SHA-256
// digests, so it takes as long whatever the length of what was pasted.
func TestTokenOK(t *testing.T) {
	t.Parallel()
	s := New(nopBackend{}, Options{Token: "s3cret-token"}).(*server)
	if len(s.tokenHash) != 32 {
		t.Fatalf("token hash of %d bytes", len(s.tokenHash))
	}
	for tok, want := range map[string]bool{
		"s3cret-token": true, "s3cret-toke": false, "s3cret-token2": false, "S3CRET-TOKEN": false, "": false,
		strings.Repeat("s", 4096): false,
	} {
		if got := s.tokenOK(tok); got != want {
			t.Errorf("tokenOK(%.20q) = %v", tok, got)
		}
	}
	if open := New(nopBackend{}, Options{}).(*server); open.loginRequired() {
		t.Error("a handler without a token asks for a login")
	}
}

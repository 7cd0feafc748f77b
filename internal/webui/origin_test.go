package webui

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func newPost(host, origin, referer string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://"+host+"/admin/deliveries/1/retry", nil)
	r.Host = host
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if referer != "" {
		r.Header.Set("Referer", referer)
	}
	return r
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, origin, referer string
		tls, ok               bool
	}{
		{"same origin", "http://h.example:7700", "", false, true},
		{"https page behind a TLS proxy", "https://h.example:7700", "", false, true},
		{"same origin over TLS", "https://h.example:7700", "", true, true},
		{"http origin of a TLS request", "http://h.example:7700", "", true, false},
		{"host in another case", "http://H.EXAMPLE:7700", "", false, true},
		{"other port", "http://h.example:7701", "", false, false},
		{"other host", "http://evil.example", "", false, false},
		{"suffix host", "http://h.example:7700.evil.example", "", false, false},
		{"other scheme", "ftp://h.example:7700", "", false, false},
		{"referer only", "", "http://h.example:7700/admin/dead", false, true},
		{"null origin, good referer", "null", "http://h.example:7700/admin/", false, true},
		{"nothing", "", "", false, false},
		{"not a URL", "::", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPost("h.example:7700", tc.origin, tc.referer)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if err := SameOrigin(r); (err == nil) != tc.ok {
				t.Errorf("sameOrigin: %v; want ok %v", err, tc.ok)
			}
		})
	}
}

// FuzzBack: an action never sends the browser off the admin page.
func FuzzBack(f *testing.F) {
	for _, s := range []string{"/admin/", "/admin/dead?target=x", "https://evil.example/", "//evil.example", "/admin//evil",
		"/admin/\\evil", "/admin/\r\nLocation: x", "/adminx", "", "/admin/%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		got := Back("/admin/", field, "/admin/")
		u, err := url.Parse(got)
		if !strings.HasPrefix(got, "/admin/") || strings.Contains(got, "//") || strings.ContainsAny(got, "\\\r\n") ||
			err != nil || u.Host != "" || u.Scheme != "" {
			t.Errorf("back(%q) = %q", field, got)
		}
	})
}

// FuzzSameOrigin: only a request naming this host passes.
func FuzzSameOrigin(f *testing.F) {
	for _, s := range []string{"http://admin.example:7700", "https://admin.example:7700", "http://evil.example", "null", "",
		"http://admin.example:7700.evil.example", "javascript:alert(1)", "http://user@admin.example:7700"} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, origin, referer string) {
		r := newPost("admin.example:7700", origin, referer)
		err := SameOrigin(r)
		if err != nil {
			return
		}
		from := origin
		if from == "" || from == "null" {
			from = referer
		}
		u, perr := url.Parse(from)
		if perr != nil || !strings.EqualFold(u.Host, "admin.example:7700") || (u.Scheme != "http" && u.Scheme != "https") {
			t.Errorf("Origin %q Referer %q passed", origin, referer)
		}
	})
}

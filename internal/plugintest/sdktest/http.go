package sdktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
)

// Receiver is a loopback HTTP server that answers with what it got: the
// body, and the method and X-Test header as headers. /teapot answers 418;
// /big answers 2 MiB, twice the host's default cap on a response.
func Receiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Test", r.Header.Get("X-Test"))
		switch r.URL.Path {
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		case "/big":
			b = []byte(strings.Repeat("x", 2<<20))
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// HTTPGrants grants HTTP with o, loopback allowed, and a test-sized
// timeout unless o sets one.
func HTTPGrants(t *testing.T, o hostfn.HTTPOptions) hostfn.Grants {
	t.Helper()
	o.AllowPrivate = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if o.Timeout == 0 {
		o.Timeout = plugintest.Timeout // not the production 5 s: a loaded machine may be slow to answer
	}
	h, err := hostfn.NewHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return hostfn.Grants{HTTP: h}
}

// testFetch: a request goes out as the guest made it and its response
// comes back whole; the host refuses origins not allowed, what is not a
// URL, and requests past the cap, and everything without http_allow.
func testFetch(t *testing.T, g Guest) {
	srv := Receiver(t)
	p := g.Load(t, HTTPGrants(t, hostfn.HTTPOptions{Allow: []string{srv.URL}, MaxRequests: 2}))

	body := `{"text":"<&>" , "ü": 1, "😀": "\n"}`
	got := Reply(t, p, "fetch", map[string]string{"method": "PUT", "url": srv.URL + "/teapot", "text": "hdr ü", "body": body})
	var res struct {
		Status    int               `json:"status"`
		Header    map[string]string `json:"headers"`
		Body      string            `json:"body"`
		Truncated bool              `json:"truncated"`
	}
	if err := json.Unmarshal([]byte(got), &res); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if res.Status != http.StatusTeapot || res.Body != body || res.Header["X-Method"] != "PUT" || res.Header["X-Test"] != "hdr ü" || res.Truncated {
		t.Errorf("response %+v", res)
	}
	if got := Reply(t, p, "fetch", map[string]string{"url": srv.URL + "/x"}); !strings.Contains(got, `"X-Method":"GET"`) {
		t.Errorf("default method: %s", got)
	}

	for _, tc := range []struct{ name, op, url, want string }{
		{"origin not allowed", "fetch", "http://127.0.0.1:1/x", "E-5 pdk: http_request: ERR_DENIED"},
		{"not a URL", "fetch", "::", "E-1 pdk: http_request: ERR_BAD_ARGUMENT"},
		{"request cap", "fetchmany", srv.URL, "200 200 E-6 pdk: http_request: ERR_LIMIT"},
	} {
		if got := Reply(t, p, tc.op, map[string]string{"url": tc.url}); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.name, got, tc.want)
		}
	}

	denied := g.Load(t, hostfn.Grants{})
	if got := Reply(t, denied, "fetch", map[string]string{"url": srv.URL}); !strings.HasPrefix(got, "E-5 ") {
		t.Errorf("without http_allow: %q, want E-5", got)
	}
}

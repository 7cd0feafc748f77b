package hostfn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hostapi"
)

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://api.example.com":       "https://api.example.com:443",
		"HTTPS://Api.Example.COM/":      "https://api.example.com:443",
		"http://api.example.com":        "http://api.example.com:80",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://[::1]:8080":             "http://[::1]:8080",
		"http://[::ffff:10.0.0.1]":      "http://10.0.0.1:80",
		"https://api.example.com.:0443": "https://api.example.com:443",
		"ftp://example.com":             "error",
		"https://example.com/path":      "error",
		"https://user@example.com":      "error",
		"https://example.com?q":         "error",
		"https://":                      "error",
		"example.com":                   "error",
		"https://example.com:99999":     "error",
		"https://example.com:0":         "error",
	} {
		got, err := ParseOrigin(in)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseOrigin(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}

// httpBundle is a loopback target, an HTTP grant allowing it, and the
// harness to call http_request.
type httpBundle struct {
	h      *harness
	srv    *httptest.Server
	other  *httptest.Server // also allowed
	denied *httptest.Server // not in the allow-list
	grants *Grants
}

func setupHTTP(t *testing.T, o HTTPOptions) *httpBundle {
	t.Helper()
	b := &httpBundle{h: newHarness(t)}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-Custom", r.Header.Get("X-Custom"))
		fmt.Fprintf(w, "%s %s <%s>", r.Method, r.URL.Path, body)
	})
	mux.HandleFunc("/redirect/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		http.Redirect(w, r, r.URL.Query().Get("to"), code)
	})
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			fmt.Fprint(w, "end")
			return
		}
		http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, strings.Repeat("b", 5000))
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	b.srv = httptest.NewServer(mux)
	b.other = httptest.NewServer(mux)
	b.denied = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(release)
		b.srv.Close()
		b.other.Close()
		b.denied.Close()
	})
	if o.Allow == nil {
		o.Allow = []string{b.srv.URL, b.other.URL}
	}
	if o.AllowPrivate == nil {
		o.AllowPrivate = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	if o.Timeout == 0 {
		o.Timeout = testTimeout // not the production 5s: a loaded machine may be slow to answer
	}
	hg, err := NewHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hg.Close)
	b.grants = &Grants{HTTP: hg}
	return b
}

// do makes one http_request with req on c and returns the status and the
// decoded response.
func (b *httpBundle) do(t *testing.T, c *Call, req string) (int32, httpResp) {
	t.Helper()
	p, n := b.h.write(t, 0, req)
	st := int32(b.h.call(t, c, hostapi.FuncHTTPRequest, p, n))
	var res httpResp
	if st > 0 {
		if got := b.h.call(t, c, hostapi.FuncResultRead, 20000, int64(st)); got != int64(st) {
			t.Fatalf("result_read = %d, want %d", got, st)
		}
		if err := json.Unmarshal([]byte(b.h.read(t, 20000, uint32(st))), &res); err != nil {
			t.Fatalf("response is not JSON: %v", err)
		}
	}
	return st, res
}

func reqJSON(method, url string, headers map[string]string, body *string) string {
	b, _ := json.Marshal(httpReq{Method: method, URL: url, Headers: headers, Body: body})
	return string(b)
}

func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	b := setupHTTP(t, HTTPOptions{MaxRequests: 100, MaxResponse: 1000})
	body := `{"a":"<b>"}`

	t.Run("GET", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), `{"url":"`+b.srv.URL+`/echo"}`)
		if st <= 0 || res.Status != 200 || res.Body != "GET /echo <>" || res.Headers["X-Method"] != "GET" || res.Truncated {
			t.Errorf("%s %+v", hostapi.StatusName(int64(st)), res)
		}
	})
	t.Run("POST with headers and body", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), reqJSON("POST", b.srv.URL+"/echo", map[string]string{"X-Custom": "v"}, &body))
		if st <= 0 || res.Body != "POST /echo <"+body+">" || res.Headers["X-Custom"] != "v" {
			t.Errorf("%s %+v", hostapi.StatusName(int64(st)), res)
		}
	})
	t.Run("303 turns POST into GET", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), reqJSON("POST", b.srv.URL+"/redirect/303?to=/echo", nil, &body))
		if st <= 0 || res.Body != "GET /echo <>" {
			t.Errorf("%s %+v", hostapi.StatusName(int64(st)), res)
		}
	})
	t.Run("307 keeps method and body", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), reqJSON("PUT", b.srv.URL+"/redirect/307?to=/echo", nil, &body))
		if st <= 0 || res.Body != "PUT /echo <"+body+">" {
			t.Errorf("%s %+v", hostapi.StatusName(int64(st)), res)
		}
	})
	t.Run("redirect to another allowed origin drops Authorization", func(t *testing.T) {
		req := reqJSON("GET", b.srv.URL+"/redirect/302?to="+b.other.URL+"/echo", map[string]string{"Authorization": "Bearer x"}, nil)
		st, res := b.do(t, newCall(b.grants), req)
		if st <= 0 || res.Body != "GET /echo <>" || res.Headers["X-Auth"] != "" {
			t.Errorf("%s %+v", hostapi.StatusName(int64(st)), res)
		}
		st, res = b.do(t, newCall(b.grants), reqJSON("GET", b.srv.URL+"/echo", map[string]string{"Authorization": "Bearer x"}, nil))
		if st <= 0 || res.Headers["X-Auth"] != "Bearer x" {
			t.Errorf("same origin: %s %+v", hostapi.StatusName(int64(st)), res)
		}
	})
	t.Run("five redirects followed, six refused", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), `{"url":"`+b.srv.URL+`/chain/5"}`)
		if st <= 0 || res.Body != "end" {
			t.Errorf("5: %s %+v", hostapi.StatusName(int64(st)), res)
		}
		if st, _ := b.do(t, newCall(b.grants), `{"url":"`+b.srv.URL+`/chain/6"}`); st != hostapi.ErrFailed {
			t.Errorf("6: %s, want ERR_FAILED", hostapi.StatusName(int64(st)))
		}
	})
	t.Run("response cut", func(t *testing.T) {
		st, res := b.do(t, newCall(b.grants), `{"url":"`+b.srv.URL+`/big"}`)
		if st <= 0 || len(res.Body) != 1000 || !res.Truncated {
			t.Errorf("%s body %d truncated %v", hostapi.StatusName(int64(st)), len(res.Body), res.Truncated)
		}
	})

	denied := []struct{ name, req string }{
		{"origin not allowed", `{"url":"` + b.denied.URL + `/echo"}`},
		{"other scheme", `{"url":"` + strings.Replace(b.srv.URL, "http:", "https:", 1) + `/echo"}`},
		{"ftp", `{"url":"ftp://` + strings.TrimPrefix(b.srv.URL, "http://") + `/echo"}`},
		{"other host name", `{"url":"` + strings.Replace(b.srv.URL, "127.0.0.1", "localhost", 1) + `/echo"}`},
		{"redirect to an origin not allowed", `{"url":"` + b.srv.URL + `/redirect/302?to=` + b.denied.URL + `/echo"}`},
		{"redirect to metadata", `{"url":"` + b.srv.URL + `/redirect/302?to=http://169.254.169.254/latest"}`},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(b.grants)
			if st, _ := b.do(t, c, tc.req); st != hostapi.ErrDenied {
				t.Errorf("%s, want ERR_DENIED", hostapi.StatusName(int64(st)))
			}
			if l := c.Logs(); len(l) != 1 || !strings.Contains(l[0].Text, "denied") {
				t.Errorf("denial not logged: %v", l)
			}
		})
	}

	bad := []struct {
		name, req string
		want      int32
	}{
		{"not JSON", `{"url":`, hostapi.ErrBadArgument},
		{"not an object", `["x"]`, hostapi.ErrBadArgument},
		{"unknown field", `{"url":"` + b.srv.URL + `","timeout":1}`, hostapi.ErrBadArgument},
		{"relative URL", `{"url":"/echo"}`, hostapi.ErrBadArgument},
		{"bad method", `{"method":"GE T","url":"` + b.srv.URL + `"}`, hostapi.ErrBadArgument},
		{"bad header name", `{"url":"` + b.srv.URL + `","headers":{"a b":"c"}}`, hostapi.ErrBadArgument},
		{"header injection", `{"url":"` + b.srv.URL + `","headers":{"a":"b\r\nc: d"}}`, hostapi.ErrBadArgument},
		{"too large", `{"url":"` + b.srv.URL + `","body":"` + strings.Repeat("x", hostapi.MaxHTTPRequest) + `"}`, hostapi.ErrTooLarge},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if st, _ := b.do(t, newCall(b.grants), tc.req); st != tc.want {
				t.Errorf("%s, want %s", hostapi.StatusName(int64(st)), hostapi.StatusName(int64(tc.want)))
			}
		})
	}

	t.Run("not granted", func(t *testing.T) {
		if st, _ := b.do(t, newCall(nil), `{"url":"`+b.srv.URL+`/echo"}`); st != hostapi.ErrDenied {
			t.Errorf("%s, want ERR_DENIED", hostapi.StatusName(int64(st)))
		}
	})
}

func TestHTTPGuard(t *testing.T) {
	t.Parallel()
	// Allowed origin, but loopback is not in allow_private.
	b := setupHTTP(t, HTTPOptions{AllowPrivate: []netip.Prefix{}})
	c := newCall(b.grants)
	if st, _ := b.do(t, c, `{"url":"`+b.srv.URL+`/echo"}`); st != hostapi.ErrDenied {
		t.Errorf("loopback without allow_private: %s, want ERR_DENIED", hostapi.StatusName(int64(st)))
	}
	if l := c.Logs(); len(l) != 1 || !strings.Contains(l[0].Text, "loopback") {
		t.Errorf("refusal not explained: %v", l)
	}
}

func TestHTTPLimit(t *testing.T) {
	t.Parallel()
	b := setupHTTP(t, HTTPOptions{MaxRequests: 2})
	c := newCall(b.grants)
	req := `{"url":"` + b.srv.URL + `/echo"}`
	for i := range 2 {
		if st, _ := b.do(t, c, req); st <= 0 {
			t.Fatalf("request %d: %s", i+1, hostapi.StatusName(int64(st)))
		}
	}
	if st, _ := b.do(t, c, req); st != hostapi.ErrLimit {
		t.Errorf("third request: %s, want ERR_LIMIT", hostapi.StatusName(int64(st)))
	}
	if k := c.Counters(); k.HTTPRequests != 2 {
		t.Errorf("HTTPRequests = %d", k.HTTPRequests)
	}
	if st, _ := b.do(t, newCall(b.grants), req); st <= 0 {
		t.Errorf("next call: %s; the cap is per call", hostapi.StatusName(int64(st)))
	}
}

func TestHTTPTimeout(t *testing.T) {
	t.Parallel()
	// Behaviour, not speed: /slow answers only when the request ends, so
	// the request is stopped by the timeout or not at all (stops fails
	// the test after stopBound).
	b := setupHTTP(t, HTTPOptions{Timeout: 50 * time.Millisecond})
	var st int32
	stops(t, "a request past its 50ms timeout", func() { st, _ = b.do(t, newCall(b.grants), `{"url":"`+b.srv.URL+`/slow"}`) })
	if st != hostapi.ErrTimeout {
		t.Errorf("%s, want ERR_TIMEOUT", hostapi.StatusName(int64(st)))
	}

	// The call's deadline, shorter than the HTTP timeout, wins.
	long := setupHTTP(t, HTTPOptions{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c := NewCall(testEvent(), time.Now().Add(50*time.Millisecond), 0, long.grants)
	p, n := long.h.write(t, 0, `{"url":"`+long.srv.URL+`/slow"}`)
	var st64 int64
	stops(t, "a request past its call's 50ms deadline", func() { st64 = long.h.callCtx(ctx, t, c, hostapi.FuncHTTPRequest, p, n) })
	if st64 != int64(hostapi.ErrTimeout) {
		t.Errorf("deadline: %s, want ERR_TIMEOUT", hostapi.StatusName(st64))
	}
}

func TestNewHTTPErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewHTTP(HTTPOptions{Allow: []string{"https://ok.example", "https://x.example/path"}}); err == nil ||
		!strings.Contains(err.Error(), "entry 2") {
		t.Errorf("bad origin: %v", err)
	}
	if _, err := NewHTTP(HTTPOptions{Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}

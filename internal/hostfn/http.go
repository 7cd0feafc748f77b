package hostfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/tetratelabs/wazero/api"
)

// HTTPOptions configures a plugin's outbound HTTP capability.
type HTTPOptions struct {
	// Allow lists the origins the plugin may reach, as
	// "scheme://host[:port]" with scheme http or https; the port defaults
	// to 80 or 443. Every redirect must also land on one of them.
	Allow []string
	// AllowPrivate lists the non-public addresses (loopback, private,
	// link-local, metadata) the plugin may reach anyway; see
	// outbound.ParsePrefixes. nil allows none.
	AllowPrivate []netip.Prefix
	// Timeout bounds one http_request, redirects included; the call's
	// remaining deadline bounds it too. Defaults to 5s.
	Timeout time.Duration
	// MaxRequests is how many http_request calls one plugin call may
	// make. Defaults to 4.
	MaxRequests int
	// MaxResponse is how many bytes of a response body are kept. Defaults
	// to 1 MiB.
	MaxResponse int64
	// UserAgent is sent when the plugin sets none. Defaults to
	// "hookd-plugin".
	UserAgent string
	// Intercept, when set, sees every request (each hop of a redirect)
	// once the allow-list let it through, before it is sent: it answers
	// it (a response, whose body it has bounded by MaxResponse), refuses
	// it (an error; one wrapping [ErrRequestDenied] reaches the guest as
	// ERR_DENIED, with the error's text in the call's log), or lets it go out
	// (nil, nil). A dry run answers a candidate plugin's requests with
	// the owner's stubs this way, under the same allow-list and limits.
	Intercept func(req *http.Request) (*outbound.Response, error)
}

// HTTP is a plugin's outbound HTTP capability: its allow-list, its SSRF
// guard and a client with its limits. Make one per plugin with [NewHTTP];
// it is safe for concurrent use.
type HTTP struct {
	allow       map[string]bool // normalised origins
	client      *outbound.Client
	timeout     time.Duration
	maxRequests int
	maxResponse int64
	intercept   func(*http.Request) (*outbound.Response, error)
}

// NewHTTP checks o and returns the capability it describes.
//
//	h, err := hostfn.NewHTTP(hostfn.HTTPOptions{Allow: []string{"https://api.example.com"}})
//
// # Notes
//
//   - The error names the first origin that is not "scheme://host[:port]".
//   - The SSRF guard checks every address dialled, after DNS resolution,
//     for every hop: an allowed name that resolves to 127.0.0.1 is still
//     refused unless AllowPrivate contains it.
func NewHTTP(o HTTPOptions) (*HTTP, error) {
	if o.Timeout < 0 || o.MaxRequests < 0 || o.MaxResponse < 0 {
		return nil, errors.New("http: timeout, max requests and max response must not be negative")
	}
	if o.Timeout == 0 {
		o.Timeout = hostapi.DefaultHTTPTimeout
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = hostapi.DefaultHTTPMaxRequests
	}
	if o.MaxResponse == 0 {
		o.MaxResponse = hostapi.DefaultHTTPMaxResponse
	}
	if o.UserAgent == "" {
		o.UserAgent = "hookd-plugin"
	}
	h := &HTTP{
		allow:       make(map[string]bool, len(o.Allow)),
		timeout:     o.Timeout,
		maxRequests: o.MaxRequests,
		maxResponse: o.MaxResponse,
		intercept:   o.Intercept,
	}
	for i, s := range o.Allow {
		origin, err := ParseOrigin(s)
		if err != nil {
			return nil, fmt.Errorf("http_allow: entry %d (%q): %w", i+1, s, err)
		}
		h.allow[origin] = true
	}
	h.client = outbound.New(outbound.Options{
		Timeout:   -1, // the request's context carries the timeout
		UserAgent: o.UserAgent,
		MaxBody:   o.MaxResponse,
		Guard:     outbound.NewGuard(o.AllowPrivate),
	})
	return h, nil
}

// Close closes the idle keep-alive connections.
func (h *HTTP) Close() { h.client.CloseIdleConnections() }

// ParseOrigin normalises an allow-list entry "scheme://host[:port]" to
// "scheme://host:port", lower case, with the default port filled in.
//
//	ParseOrigin("HTTPS://Api.Example.com") // "https://api.example.com:443"
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", errors.New(`an origin is "scheme://host[:port]" only: no path, query, user or fragment`)
	}
	return origin(u)
}

// origin returns the normalised origin of u, or an error if u is not an
// absolute http(s) URL with a host.
func origin(u *url.URL) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	var port string
	switch scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return "", errors.New("no host")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("port %q is not a port number", p)
		}
		port = strconv.FormatUint(n, 10)
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// allowed reports whether u's origin is on the allow-list.
func (h *HTTP) allowed(u *url.URL) (string, bool) {
	o, err := origin(u)
	if err != nil {
		return "", false
	}
	return o, h.allow[o]
}

// httpReq is the request object of http_request.
type httpReq struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// httpResp is the response object put in the result buffer.
type httpResp struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Truncated bool              `json:"truncated,omitempty"`
}

// httpRequest implements http_request(req, req_len).
func httpRequest(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	ptr, n := arg(stack, 0), arg(stack, 1)
	if !inMemory(mem, ptr, n) {
		return hostapi.ErrMemory
	}
	c.clearResult()
	h := c.grantedHTTP()
	if h == nil {
		c.hostLog(hostapi.LevelWarn, "http_request denied: the plugin has no http_allow")
		return hostapi.ErrDenied
	}
	if n > hostapi.MaxHTTPRequest {
		return hostapi.ErrTooLarge
	}
	if c.httpRequests >= h.maxRequests {
		c.hostLog(hostapi.LevelWarn, "http_request refused: more than "+strconv.Itoa(h.maxRequests)+" requests in one call")
		return hostapi.ErrLimit
	}
	c.httpRequests++
	raw, ok := readGuest(mem, ptr, n)
	if !ok {
		return hostapi.ErrMemory
	}
	req, u, err := parseHTTPReq(raw)
	if err != nil {
		c.hostLog(hostapi.LevelWarn, "http_request refused: "+err.Error())
		return hostapi.ErrBadArgument
	}
	if _, ok := h.allowed(u); !ok {
		c.hostLog(hostapi.LevelWarn, "http_request denied: the origin of "+u.Redacted()+" is not in http_allow")
		return hostapi.ErrDenied
	}
	c.counters.HTTPRequests++
	res, st := h.do(ctx, c, req, u)
	if st != hostapi.OK {
		return st
	}
	out, err := encodeResponse(res)
	if err != nil {
		c.hostLog(hostapi.LevelError, "http_request failed: "+err.Error())
		return hostapi.ErrFailed
	}
	return c.setResult(out)
}

func (c *Call) grantedHTTP() *HTTP {
	if c.grants == nil {
		return nil
	}
	return c.grants.HTTP
}

// parseHTTPReq decodes and checks a request object.
func parseHTTPReq(raw []byte) (*httpReq, *url.URL, error) {
	if err := checkObject(raw); err != nil {
		return nil, nil, errors.New("the request is " + err.Error())
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	var r httpReq
	if err := d.Decode(&r); err != nil {
		return nil, nil, fmt.Errorf("the request object is not valid: %v", err)
	}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if !isToken(r.Method) {
		return nil, nil, fmt.Errorf("method %s is not an HTTP method", quote(r.Method))
	}
	for k, v := range r.Headers {
		if !isToken(k) || strings.ContainsAny(v, "\r\n\x00") {
			return nil, nil, fmt.Errorf("header %s is not a valid header", quote(k))
		}
	}
	u, err := url.Parse(r.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, nil, fmt.Errorf("url %s is not an absolute http(s) URL", quote(r.URL))
	}
	return &r, u, nil
}

// do sends r, following at most MaxRedirects redirects, each re-checked
// against the allow-list, within the request timeout.
func (h *HTTP) do(ctx context.Context, c *Call, r *httpReq, u *url.URL) (*outbound.Response, int32) {
	rctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	method, body := r.Method, r.Body
	header := make(http.Header, len(r.Headers))
	for k, v := range r.Headers {
		header.Set(k, v)
	}
	for hop := 0; ; hop++ {
		if rctx.Err() != nil {
			c.hostLog(hostapi.LevelWarn, "http_request timed out before "+u.Redacted())
			return nil, hostapi.ErrTimeout
		}
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(*body)
		}
		req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
		if err != nil {
			c.hostLog(hostapi.LevelWarn, "http_request refused: "+err.Error())
			return nil, hostapi.ErrBadArgument
		}
		req.Header = header
		res, err := h.send(rctx, req)
		if err != nil {
			return nil, c.httpError(u, err)
		}
		loc := res.Header.Get("Location")
		if !isRedirect(res.Status) || loc == "" {
			return res, hostapi.OK
		}
		if hop == hostapi.MaxRedirects {
			c.hostLog(hostapi.LevelWarn, "http_request failed: more than "+strconv.Itoa(hostapi.MaxRedirects)+" redirects")
			return nil, hostapi.ErrFailed
		}
		next, err := u.Parse(loc)
		if err != nil {
			c.hostLog(hostapi.LevelWarn, "http_request failed: bad redirect Location "+quote(loc))
			return nil, hostapi.ErrFailed
		}
		o, ok := h.allowed(next)
		if !ok {
			c.hostLog(hostapi.LevelWarn, "http_request denied: redirect to "+next.Redacted()+", whose origin is not in http_allow")
			return nil, hostapi.ErrDenied
		}
		if prev, _ := origin(u); prev != o {
			header = header.Clone()
			for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
				header.Del(k)
			}
		}
		switch res.Status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
			if method != http.MethodGet && method != http.MethodHead {
				method, body = http.MethodGet, nil
				header = header.Clone()
				header.Del("Content-Type")
			}
		}
		u = next
	}
}

// send sends req, unless the interceptor answers or refuses it.
func (h *HTTP) send(ctx context.Context, req *http.Request) (*outbound.Response, error) {
	if h.intercept != nil {
		if res, err := h.intercept(req); res != nil || err != nil {
			return res, err
		}
	}
	return h.client.Do(ctx, req)
}

// ErrRequestDenied is what an [HTTPOptions] Intercept's error wraps to
// deny a request (ERR_DENIED); its text is the line logged, so it starts
// with "http_request denied".
var ErrRequestDenied = errors.New("http_request denied")

// httpError maps a transport error to a status and logs why.
func (c *Call) httpError(u *url.URL, err error) int32 {
	switch {
	case errors.Is(err, ErrRequestDenied):
		c.hostLog(hostapi.LevelWarn, err.Error())
		return hostapi.ErrDenied
	case errors.Is(err, outbound.ErrRefused):
		c.hostLog(hostapi.LevelWarn, "http_request denied: "+err.Error())
		return hostapi.ErrDenied
	case errors.Is(err, context.DeadlineExceeded):
		c.hostLog(hostapi.LevelWarn, "http_request to "+u.Redacted()+": "+err.Error())
		return hostapi.ErrTimeout
	}
	c.hostLog(hostapi.LevelWarn, "http_request to "+u.Redacted()+" failed: "+err.Error())
	return hostapi.ErrFailed
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// encodeResponse renders the response object, without HTML escaping.
func encodeResponse(res *outbound.Response) ([]byte, error) {
	out := httpResp{
		Status:    res.Status,
		Headers:   make(map[string]string, len(res.Header)),
		Body:      string(res.Body),
		Truncated: res.Truncated,
	}
	for k, v := range res.Header {
		out.Headers[k] = strings.Join(v, ", ")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// isToken reports whether s is an RFC 9110 token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}

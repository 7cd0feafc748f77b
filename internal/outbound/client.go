package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/tracing"
)

// Defaults of [Options].
const (
	DefaultTimeout             = 10 * time.Second
	DefaultUserAgent           = "hookd"
	DefaultMaxBody             = hook.MaxReplyExcerpt
	DefaultMaxIdleConnsPerHost = 64
)

// maxDrain is how much of a cut-off body is read and thrown away so that the
// connection can go back to the pool. Reading more would cost more than
// opening a new connection; a receiver that sends megabytes loses its
// keep-alive instead.
const maxDrain = 64 << 10

// maxResponseHeader bounds the response headers, like every other input from
// the network (the net/http default is 1 MB).
const maxResponseHeader = 64 << 10

// Options configures a [Client]. The zero value is usable: every field has a
// default.
type Options struct {
	// Timeout bounds one request from dialling to the last body byte kept.
	// A negative value sets no deadline of the client's own, leaving only
	// the one of the ctx given to Do. Defaults to 10s.
	Timeout time.Duration
	// UserAgent is sent when the request does not set one. Defaults to
	// "hookd".
	UserAgent string
	// MaxBody is how many bytes of an answer's body are kept. Defaults to
	// hook.MaxReplyExcerpt (20 KiB).
	MaxBody int64
	// Guard, when set, refuses to dial the addresses it does not allow (see
	// [Guard]). Use one for every URL a domain owner configured; nil means
	// no check, for the operator's own servers.
	Guard *Guard
	// MaxIdleConnsPerHost is how many keep-alive connections to one host are
	// kept open between requests. Defaults to 64.
	MaxIdleConnsPerHost int
	// TLS is the client side of TLS: client certificates (mutual TLS) and
	// RootCAs for a receiver with its own CA. nil: Go's defaults (system
	// roots, no client certificate). It is cloned; later changes to it have
	// no effect.
	TLS *tls.Config
	// Proxy is an egress proxy ("http://host:port" or "https://host:port")
	// every request goes through as a CONNECT tunnel. nil: direct
	// connections. With a Guard, the destination is resolved and checked
	// by hookd before the tunnel is asked for, and the proxy's own address
	// is dialled through the Guard too (see the package doc, "Proxy").
	Proxy *url.URL
	// Prepare, when set, is called on the request copy in Do after the
	// User-Agent and the trace headers are set and just before sending: the
	// place for a target's own headers and signature. An error fails the
	// attempt (an ordinary, retried failure) without sending anything.
	Prepare func(r *http.Request) error

	// For tests of this package: the resolver of a guarded destination
	// behind a proxy, and the TLS config of an https proxy (nil: the
	// system roots, as in production, where SSL_CERT_FILE adds a CA).
	lookup   func(ctx context.Context, host string) ([]netip.Addr, error)
	proxyTLS *tls.Config
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	return o
}

// Client makes outbound HTTP requests for deliveries. It is safe for
// concurrent use, and meant to be long-lived: it keeps a pool of keep-alive
// connections, so one Client per trust level (with and without a [Guard]) is
// shared by all targets rather than one made per request; a target with
// its own TLS, proxy or Prepare gets a Client of its own, made once.
type Client struct {
	hc         *http.Client
	tr         *http.Transport
	timeout    time.Duration
	userAgent  string
	maxBody    int64
	prepare    func(*http.Request) error
	clientCert bool // a client certificate is configured (error texts)
}

// New returns a Client configured by opts (zero fields take their defaults).
//
// # Notes
//
//   - No proxy is taken from the environment (HTTP_PROXY and friends): a
//     proxy dials on our behalf, so the [Guard] would never see the address.
//     [Options.Proxy] sets one explicitly, and the Guard judges the
//     destination before the tunnel is asked for (see the package doc).
//   - Redirects are not followed; Do returns the 3xx answer itself.
//   - TLS uses the system roots and Go's default settings unless
//     [Options.TLS] says otherwise; HTTP/2 is used when the server offers
//     it.
func New(opts Options) *Client {
	opts = opts.withDefaults()
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if opts.Guard != nil {
		dialer.ControlContext = opts.Guard.Control
	}
	dial := dialer.DialContext
	if opts.Proxy != nil {
		dial = newTunnelDialer(opts.Proxy, opts, dial).DialContext
	}
	tr := &http.Transport{
		Proxy:                  nil, // see tunnelDialer: hookd tunnels http too
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           0, // bounded per host, and by IdleConnTimeout
		MaxIdleConnsPerHost:    opts.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeader,
	}
	if opts.TLS != nil {
		tr.TLSClientConfig = opts.TLS.Clone()
	}
	return &Client{
		hc: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		tr:         tr,
		timeout:    opts.Timeout,
		userAgent:  opts.UserAgent,
		maxBody:    opts.MaxBody,
		prepare:    opts.Prepare,
		clientCert: opts.TLS != nil && (len(opts.TLS.Certificates) > 0 || opts.TLS.GetClientCertificate != nil),
	}
}

// CloseIdleConnections closes the keep-alive connections not in use, e.g.
// at shutdown.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

// Response is what Do observed of an answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the start of the body, at most Options.MaxBody bytes.
	Body []byte
	// Truncated reports that the body was longer than Body.
	Truncated bool
	// Latency is the time from the start of Do to the last byte of Body.
	Latency time.Duration
}

// Do sends req and reads the answer, within the client's timeout and ctx.
//
//	resp, err := c.Do(ctx, req)
//	res, err := outbound.Classify(resp, err)
//
// # Notes
//
//   - ctx governs the request; the context req was made with is ignored.
//   - req is not modified: a User-Agent is added to a copy when it has
//     none, and [Options.Prepare] is called on that copy. The copy shares
//     req's Body: Prepare reads the body through r.GetBody.
//   - Any status is a Response and a nil error; deciding what a status
//     means is [Classify]'s job.
//   - An error before the headers arrive returns a nil Response. An error
//     while reading the body (a receiver that stalls after its headers)
//     returns the Response read so far together with the error, so the
//     delivery log still records the status.
//   - Errors have a short text for the delivery log ("timeout after 10s
//     waiting for the response", "connection refused (192.0.2.1:443)", or
//     the [Guard]'s refusal) and wrap the underlying errors, so errors.Is
//     with context.DeadlineExceeded, syscall.ECONNREFUSED or [ErrRefused]
//     works.
func (c *Client) Do(ctx context.Context, req *http.Request) (*Response, error) {
	if req == nil || req.URL == nil {
		return nil, errors.New("outbound: a request with a URL is required")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()

	r := req.WithContext(rctx)
	r.Header = r.Header.Clone() // the caller's request is not changed
	if r.Header == nil {
		r.Header = make(http.Header, 2)
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", c.userAgent)
	}
	// With tracing on, the receiver gets the attempt's traceparent.
	tracing.Inject(ctx, propagation.HeaderCarrier(r.Header))
	if c.prepare != nil {
		if err := c.prepare(r); err != nil {
			return nil, &transportError{msg: fmt.Sprintf("preparing the request failed: %v", err), errs: []error{err}}
		}
	}

	hr, err := c.hc.Do(r)
	if err != nil {
		return nil, c.describe(ctx, rctx, req, err, time.Since(start), false)
	}
	resp := &Response{Status: hr.StatusCode, Header: hr.Header}
	resp.Body, resp.Truncated, err = c.readBody(hr)
	resp.Latency = time.Since(start)
	if err != nil {
		return resp, c.describe(ctx, rctx, req, err, resp.Latency, true)
	}
	return resp, nil
}

// readBody reads at most c.maxBody bytes of hr's body, drains a short
// remainder so the connection can be reused, and closes the body.
func (c *Client) readBody(hr *http.Response) (body []byte, truncated bool, err error) {
	defer hr.Body.Close()
	body, err = readAtMost(hr.Body, c.maxBody+1, hr.ContentLength)
	if err != nil || int64(len(body)) <= c.maxBody {
		return body, false, err
	}
	body = body[:c.maxBody:c.maxBody]
	// A declared length tells whether draining is worth it; an unknown one
	// (chunked) gets maxDrain bytes' worth of chance. Errors do not matter
	// here: at worst the connection is closed instead of reused.
	if rest := hr.ContentLength - c.maxBody; hr.ContentLength < 0 || rest <= maxDrain {
		_, _ = io.CopyN(io.Discard, hr.Body, maxDrain)
	}
	return body, true, nil
}

// readAtMost reads r until EOF or limit bytes, whichever comes first. It
// sizes its buffer from the declared length (-1 if unknown) so the common
// small answer costs one allocation of the right size.
func readAtMost(r io.Reader, limit, declared int64) ([]byte, error) {
	size := min(limit, 512)
	if declared >= 0 && declared < limit {
		size = declared + 1 // +1: room to read the EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(int64(cap(b)), limit)])
		b = b[:len(b)+n]
		if err == io.EOF || int64(len(b)) >= limit {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

package outbound

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// tunnelDialer opens every connection of a [Client] as a CONNECT tunnel
// through an egress proxy ([Options.Proxy]). It is the transport's
// DialContext; the transport's own Proxy stays nil.
//
// # Why CONNECT for plain http too
//
// net/http's Transport.Proxy tunnels only https destinations; for http ones
// it sends the request itself to the proxy in absolute form
// ("POST http://receiver/path"), which the proxy then re-sends. hookd
// tunnels both, so that:
//
//   - there is one path and one place where the SSRF guard judges the
//     destination (here, before the tunnel is asked for);
//   - the receiver gets exactly the request a direct delivery sends: no
//     proxy rewrites, adds (Via, X-Forwarded-For) or strips headers, and
//     the signature's headers arrive as signed;
//   - keep-alive connections are per destination, as when direct.
//
// The cost: a proxy that allows CONNECT only to port 443 (Squid's default
// "http_access deny CONNECT !SSL_ports") refuses an http receiver with 403;
// the delivery log says so, and the operator allows the port.
type tunnelDialer struct {
	proxyAddr string // host:port of the proxy
	secure    bool   // https:// proxy: TLS to the proxy, then CONNECT inside
	hostname  string // the proxy's host name, for its certificate
	auth      string // Proxy-Authorization value from the URL's user info, or ""
	userAgent string
	badScheme string // a scheme other than http/https: every dial fails with it

	dial   func(ctx context.Context, network, addr string) (net.Conn, error) // through the Guard
	guard  *Guard
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	tls    *tls.Config // for an https proxy; nil: system roots
}

// newTunnelDialer returns the dialer for proxy u; dial is the (guarded)
// dialer that reaches the proxy itself.
func newTunnelDialer(u *url.URL, opts Options, dial func(context.Context, string, string) (net.Conn, error)) *tunnelDialer {
	d := &tunnelDialer{
		hostname:  u.Hostname(),
		userAgent: opts.UserAgent,
		dial:      dial,
		guard:     opts.Guard,
		lookup:    opts.lookup,
		tls:       opts.proxyTLS,
	}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		d.secure = true
		if port == "" {
			port = "443"
		}
	default:
		d.badScheme = u.Scheme
	}
	d.proxyAddr = net.JoinHostPort(d.hostname, port)
	if u.User != nil {
		pw, _ := u.User.Password()
		d.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
	}
	if d.lookup == nil {
		d.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return d
}

// DialContext checks the destination addr ("host:port") against the guard,
// connects to the proxy (through the guard), and asks it for a tunnel to
// addr. The transport then speaks TLS (https) or plain HTTP inside it.
func (d *tunnelDialer) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	if d.badScheme != "" {
		return nil, fmt.Errorf("proxy URL scheme %q is not supported (http or https)", d.badScheme)
	}
	if err := d.checkDestination(ctx, addr); err != nil {
		return nil, err
	}
	conn, err := d.dial(ctx, "tcp", d.proxyAddr)
	if err != nil {
		return nil, &transportError{msg: fmt.Sprintf("proxy %s: %s", d.proxyAddr, cause(d.proxyAddr, err, false)), errs: []error{err}}
	}
	if d.secure {
		cfg := d.tls.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = d.hostname
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, &transportError{msg: fmt.Sprintf("proxy %s: %s", d.proxyAddr, cause(d.proxyAddr, err, false)), errs: []error{err}}
		}
		conn = tc
	}
	tunnel, err := d.connect(ctx, conn, addr)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tunnel, nil
}

// checkDestination resolves the destination's host and refuses it unless
// every address passes the guard. The proxy resolves the name again when it
// connects: a name that changes its answer in between (DNS rebinding) is
// not caught here, which is why the package doc asks for a proxy with its
// own egress rules. A name hookd cannot resolve is refused rather than left
// to the proxy: with a guard, nothing unchecked leaves.
func (d *tunnelDialer) checkDestination(ctx context.Context, addr string) error {
	if d.guard == nil {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: destination %q: %w", ErrRefused, addr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = d.lookup(ctx, host); err != nil {
		return &transportError{msg: fmt.Sprintf("destination %s: %s", addr, cause(addr, err, false)), errs: []error{err}}
	}
	if len(ips) == 0 {
		return fmt.Errorf("%w: destination %s: the name resolves to no address", ErrRefused, addr)
	}
	for _, ip := range ips {
		if err := d.guard.Check(ip); err != nil {
			return &transportError{msg: fmt.Sprintf("destination %s (through the proxy): %v", addr, err), errs: []error{err}}
		}
	}
	return nil
}

// connect sends CONNECT addr on conn and reads the proxy's answer, within
// ctx. It returns the tunnel: conn, plus whatever the proxy sent after its
// answer.
func (d *tunnelDialer) connect(ctx context.Context, conn net.Conn, addr string) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	tunnel, err := d.handshake(conn, addr)
	if !stop() || ctx.Err() != nil {
		return nil, context.Cause(ctx) // describe names the deadline or the cancel
	}
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return tunnel, nil
}

// handshake is connect without the context handling.
func (d *tunnelDialer) handshake(conn net.Conn, addr string) (net.Conn, error) {
	hdr := make(http.Header, 2)
	hdr.Set("User-Agent", d.userAgent)
	if d.auth != "" {
		hdr.Set("Proxy-Authorization", d.auth)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: hdr}
	if err := req.Write(conn); err != nil {
		return nil, &transportError{msg: fmt.Sprintf("proxy %s: sending CONNECT failed: %s", d.proxyAddr, cause(d.proxyAddr, err, false)), errs: []error{err}}
	}
	// The answer's header is bounded like a receiver's; the tunnel's bytes
	// after it are not.
	lr := &io.LimitedReader{R: conn, N: maxResponseHeader}
	br := bufio.NewReader(lr)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if lr.N == 0 {
			err = fmt.Errorf("answer header longer than %d bytes", maxResponseHeader)
		}
		return nil, &transportError{msg: fmt.Sprintf("proxy %s: no valid answer to CONNECT: %s", d.proxyAddr, cause(d.proxyAddr, err, false)), errs: []error{err}}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("proxy %s refused CONNECT to %s: %s", d.proxyAddr, addr, short(resp.Status))
		if resp.StatusCode == http.StatusProxyAuthRequired && d.auth == "" {
			msg += " (the proxy URL has no user:password)"
		}
		return nil, &transportError{msg: msg, errs: []error{&ProxyError{Status: resp.StatusCode}}}
	}
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		return &prefixConn{Conn: conn, r: io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)}, nil
	}
	return conn, nil
}

// ProxyError is wrapped by the error of a request the egress proxy refused
// to tunnel, so a caller can tell it from a receiver's answer:
//
//	var pe *outbound.ProxyError
//	if errors.As(err, &pe) && pe.Status == 407 { … }
type ProxyError struct {
	Status int // the proxy's status code for the CONNECT
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("the proxy refused CONNECT with %d %s", e.Status, http.StatusText(e.Status))
}

// short cuts a proxy's status line to a length a log line can carry.
func short(s string) string {
	const maxLen = 120
	if len(s) > maxLen {
		return s[:maxLen] + "…"
	}
	return s
}

// prefixConn is a tunnel whose first bytes were already read along with the
// proxy's answer.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

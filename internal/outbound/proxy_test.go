package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/outbound/outboundtest"
)

// TestProxyTunnelsHTTPAndHTTPS sends an http and an https (mutual TLS)
// request through an egress proxy: both go through CONNECT tunnels (the
// proxy gets no request in absolute form), and both receivers see the
// proxy's connection, not hookd's.
func TestProxyTunnelsHTTPAndHTTPS(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("https proxy %v", secure), func(t *testing.T) {
			t.Parallel()
			p := outboundtest.NewProxy(t, outboundtest.ProxyOptions{TLS: secure})
			remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Remote", r.RemoteAddr)
				w.Header().Set("X-Path", r.URL.String())
				w.WriteHeader(http.StatusNoContent)
			})
			plain := start(outboundtest.Listen(t, "127.0.0.1", remote))
			ca := outboundtest.NewCA(t, "ca")
			mtls := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{}, remote)
			trust := &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Client(t, "hookd")}}

			c := New(Options{Proxy: p.URL, TLS: trust, proxyTLS: p.TLSConfig()})
			t.Cleanup(c.CloseIdleConnections)
			for _, srv := range []string{plain.URL, mtls.URL} {
				for range 2 { // the second request reuses the tunnel
					req, _ := http.NewRequest(http.MethodPost, srv+"/hook?x=1", strings.NewReader("{}"))
					resp, err := c.Do(context.Background(), req)
					if err != nil || resp.Status != http.StatusNoContent {
						t.Fatalf("Do(%s) = %+v, %v; want 204", srv, resp, err)
					}
					if got := resp.Header.Get("X-Path"); got != "/hook?x=1" {
						t.Errorf("the receiver saw the request target %q, want the origin form /hook?x=1", got)
					}
					if r := resp.Header.Get("X-Remote"); !p.Carried(r) {
						t.Errorf("the receiver %s saw a connection from %s, not one of the proxy's", srv, r)
					}
				}
				u, _ := url.Parse(srv)
				if n := p.Tunnels(u.Host); n != 1 {
					t.Errorf("tunnels to %s = %d, want 1 (two requests over one kept-alive tunnel)", u.Host, n)
				}
			}
			if n := p.Plain(); n != 0 {
				t.Errorf("the proxy got %d requests in absolute form, want 0: hookd tunnels http too", n)
			}
		})
	}
}

// TestProxyRefusals checks the texts of a proxy that refuses to tunnel, and
// that the proxy URL's user:password is sent as Basic credentials.
func TestProxyRefusals(t *testing.T) {
	t.Parallel()
	dest := start(outboundtest.Listen(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	destHost := strings.TrimPrefix(dest.URL, "http://")
	needAuth := outboundtest.ProxyOptions{User: "hookd", Password: "s3cret"}

	tests := []struct {
		name   string
		proxy  outboundtest.ProxyOptions
		user   *url.Userinfo
		want   string // substring of the error; "" means 204
		status int    // the ProxyError's
	}{
		{name: "403", proxy: outboundtest.ProxyOptions{Status: http.StatusForbidden},
			want: "refused CONNECT to " + destHost + ": 403 Forbidden", status: 403},
		{name: "407 without credentials", proxy: needAuth,
			want: "refused CONNECT to " + destHost + ": 407 Proxy Authentication Required (the proxy URL has no user:password)", status: 407},
		{name: "407 with wrong credentials", proxy: needAuth, user: url.UserPassword("hookd", "wrong"),
			want: ": 407 Proxy Authentication Required", status: 407},
		{name: "credentials accepted", proxy: needAuth, user: url.UserPassword("hookd", "s3cret")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := outboundtest.NewProxy(t, tt.proxy)
			pu := *p.URL
			pu.User = tt.user
			c := New(Options{Proxy: &pu})
			t.Cleanup(c.CloseIdleConnections)
			req, _ := http.NewRequest(http.MethodPost, dest.URL, strings.NewReader("{}"))
			resp, err := c.Do(context.Background(), req)
			t.Logf("error: %v", err)
			if tt.want == "" {
				if err != nil || resp.Status != http.StatusNoContent {
					t.Fatalf("Do = %+v, %v; want 204", resp, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Do = %d, nil; want an error containing %q", resp.Status, tt.want)
			}
			want := "proxy " + p.URL.Host + " "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %q and contain %q", err, want, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error = %q shows the proxy password", err)
			}
			var pe *ProxyError
			if !errors.As(err, &pe) || pe.Status != tt.status {
				t.Errorf("errors.As(ProxyError) = %v, want status %d", pe, tt.status)
			}
		})
	}
}

// TestProxyDeadline checks that a proxy that never answers the CONNECT is
// bounded by the client's timeout.
func TestProxyDeadline(t *testing.T) {
	t.Parallel()
	p := outboundtest.NewProxy(t, outboundtest.ProxyOptions{Hang: true})
	c := New(Options{Proxy: p.URL, Timeout: 200 * time.Millisecond})
	t.Cleanup(c.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", strings.NewReader("{}"))
	_, err := c.Do(context.Background(), req)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(fmt.Sprint(err), "timeout after 200ms") {
		t.Fatalf("error = %v, want the client's timeout", err)
	}
}

// TestProxyGuard checks the SSRF guard through a proxy: hookd resolves the
// destination and checks every address before asking for a tunnel, and
// dials the proxy through the guard, so a proxy on a private address must
// be allowed explicitly. The proxy listens on 127.0.0.1 and the receiver
// on 127.0.0.2, so each can be allowed without the other.
func TestProxyGuard(t *testing.T) {
	t.Parallel()
	dest := start(outboundtest.Listen(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	destPort := dest.URL[strings.LastIndex(dest.URL, ":")+1:]
	lookup := func(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
		return func(_ context.Context, host string) ([]netip.Addr, error) {
			if len(addrs) == 0 {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var out []netip.Addr
			for _, a := range addrs {
				out = append(out, netip.MustParseAddr(a))
			}
			return out, nil
		}
	}

	tests := []struct {
		name   string
		allow  []string
		url    string // default: dest.URL
		lookup func(context.Context, string) ([]netip.Addr, error)
		want   string // substring of the error; "" means 204
		refuse bool   // the error wraps ErrRefused
		conns  bool   // the proxy was connected to (the destination passed)
	}{
		{name: "proxy and destination allowed", allow: []string{"127.0.0.1", "127.0.0.2"}, conns: true},
		{name: "private destination refused", allow: []string{"127.0.0.1"},
			want: "destination " + strings.TrimPrefix(dest.URL, "http://") + " (through the proxy): address 127.0.0.2 is loopback; refused for domain-owned URLs", refuse: true},
		{name: "proxy on a private address refused", allow: []string{"127.0.0.2"},
			want: "proxy 127.0.0.1:", refuse: true},
		{name: "a name with one private address among public ones", allow: []string{"127.0.0.1"},
			url: "http://receiver.example:" + destPort, lookup: lookup("93.184.215.14", "10.9.8.7", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
			want: "destination receiver.example:" + destPort + " (through the proxy): address 10.9.8.7 is private (RFC 1918)", refuse: true},
		{name: "a name hookd cannot resolve", allow: []string{"127.0.0.1"},
			url: "http://nowhere.invalid/", lookup: lookup(),
			want: "destination nowhere.invalid:80: dns lookup of nowhere.invalid failed: no such host"},
		{name: "a name with public addresses only passes to the proxy", allow: []string{"127.0.0.1"},
			url: "http://receiver.example:" + destPort, lookup: lookup("93.184.215.14"),
			want: "refused CONNECT to receiver.example:" + destPort + ": 502 Bad Gateway", conns: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := outboundtest.NewProxy(t, outboundtest.ProxyOptions{})
			allow, err := ParsePrefixes(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			c := New(Options{Proxy: p.URL, Guard: NewGuard(allow), lookup: tt.lookup})
			t.Cleanup(c.CloseIdleConnections)
			u := tt.url
			if u == "" {
				u = dest.URL
			}
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
			resp, err := c.Do(context.Background(), req)
			t.Logf("error: %v", err)
			switch {
			case tt.want == "" && (err != nil || resp.Status != http.StatusNoContent):
				t.Fatalf("Do = %+v, %v; want 204", resp, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Do = %+v, %v; want an error containing %q", resp, err, tt.want)
			}
			if got := errors.Is(err, ErrRefused); got != tt.refuse {
				t.Errorf("errors.Is(%v, ErrRefused) = %v, want %v", err, got, tt.refuse)
			}
			if got := p.Conns() > 0; got != tt.conns {
				t.Errorf("the proxy was connected to: %v, want %v", got, tt.conns)
			}
			if tt.want != "" && p.TotalTunnels() != 0 {
				t.Errorf("the proxy opened %d tunnels for a refused request", p.TotalTunnels())
			}
		})
	}
}

// TestProxyBadScheme checks that a proxy URL New cannot use fails every
// request with a text that says what is allowed.
func TestProxyBadScheme(t *testing.T) {
	t.Parallel()
	c := New(Options{Proxy: &url.URL{Scheme: "socks5", Host: "127.0.0.1:1080"}})
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:9/", nil)
	_, err := c.Do(context.Background(), req)
	if want := `proxy URL scheme "socks5" is not supported (http or https)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestProxyUnreachable checks the texts of a proxy that cannot be reached
// or whose certificate is not trusted: they name the proxy, not the
// receiver.
func TestProxyUnreachable(t *testing.T) {
	t.Parallel()
	down, _ := url.Parse(refusedURL(t))
	untrusted := outboundtest.NewProxy(t, outboundtest.ProxyOptions{TLS: true}) // not in proxyTLS
	for _, tt := range []struct {
		name  string
		proxy *url.URL
		want  string
		is    error
	}{
		{name: "nothing listens", proxy: down, want: "proxy " + down.Host + ": connection refused", is: syscall.ECONNREFUSED},
		{name: "untrusted certificate", proxy: untrusted.URL, want: "proxy " + untrusted.URL.Host + ": tls certificate of 127.0.0.1 not accepted: x509:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := New(Options{Proxy: tt.proxy})
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", strings.NewReader("{}"))
			_, err := c.Do(context.Background(), req)
			t.Logf("error: %v", err)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to start with %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// start starts srv (from outboundtest.Listen) as a plain http server.
func start(srv *httptest.Server) *httptest.Server {
	srv.Start()
	return srv
}

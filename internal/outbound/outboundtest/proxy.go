// Package outboundtest holds the real servers the tests of outbound HTTP
// need: a CONNECT proxy on loopback that counts its tunnels, a CA that
// issues client and server certificates, and a receiver that requires a
// client certificate. internal/outbound's own tests and the end-to-end
// tests of the delivery settings (issue 18) share them, so the egress
// proxy and mutual TLS are judged against the same servers everywhere.
package outboundtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ProxyOptions configures [NewProxy]. The zero value is a plain http://
// proxy on 127.0.0.1 that tunnels everything.
type ProxyOptions struct {
	// TLS makes it an https:// proxy (TLS to the proxy, CONNECT inside);
	// its certificate is httptest's: trust it with [Proxy.TLSConfig].
	TLS bool
	// User and Password, when User is set, are required as Basic
	// Proxy-Authorization; without them a CONNECT gets 407.
	User, Password string
	// Status, when set, answers every CONNECT with it (403: a proxy that
	// refuses).
	Status int
	// Hang makes the proxy accept a CONNECT and never answer, until the
	// test ends or the client goes away.
	Hang bool
	// IP is the loopback address to listen on; default 127.0.0.1.
	IP string
}

// Proxy is a CONNECT proxy on loopback. It refuses anything but CONNECT
// (counting those requests in [Proxy.Plain]), counts the tunnels per
// destination and remembers the local address of each connection it made,
// so a test can tell that a receiver's request came through it.
type Proxy struct {
	// URL is the proxy's URL ("http://127.0.0.1:port"), without
	// credentials.
	URL       *url.URL
	opts      ProxyOptions
	auth      string
	tlsConfig *tls.Config

	conns atomic.Int32
	plain atomic.Int32
	done  chan struct{}

	mu      sync.Mutex
	tunnels map[string]int
	from    map[string]bool
	open    []net.Conn
}

// NewProxy starts a proxy; it is closed, with its tunnels, when the test
// ends.
func NewProxy(t testing.TB, opts ProxyOptions) *Proxy {
	t.Helper()
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	p := &Proxy{opts: opts, done: make(chan struct{}), tunnels: map[string]int{}, from: map[string]bool{}}
	if opts.User != "" {
		p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.User+":"+opts.Password))
	}
	srv := Listen(t, opts.IP, http.HandlerFunc(p.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	if opts.TLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		close(p.done)
		srv.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.open {
			_ = c.Close()
		}
	})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p.URL = u
	if opts.TLS {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		p.tlsConfig = &tls.Config{RootCAs: pool}
	}
	return p
}

// TLSConfig trusts the certificate of an https:// proxy; nil for an
// http:// one.
func (p *Proxy) TLSConfig() *tls.Config {
	if p.tlsConfig == nil {
		return nil
	}
	return p.tlsConfig.Clone()
}

// Tunnels is how many tunnels were opened to dest ("host:port", as the
// CONNECT named it).
func (p *Proxy) Tunnels(dest string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels[dest]
}

// TotalTunnels is how many tunnels were opened, to any destination.
func (p *Proxy) TotalTunnels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.tunnels {
		n += v
	}
	return n
}

// Conns is how many connections the proxy accepted.
func (p *Proxy) Conns() int { return int(p.conns.Load()) }

// Plain is how many requests were not CONNECT (an absolute-form request
// such as "POST http://receiver/"): refused with 405.
func (p *Proxy) Plain() int { return int(p.plain.Load()) }

// Carried reports whether remote (a receiver's r.RemoteAddr) is one of the
// proxy's own connections to a destination.
func (p *Proxy) Carried(remote string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.from[remote]
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		p.plain.Add(1)
		http.Error(w, "this proxy only tunnels (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case p.opts.Hang:
		select {
		case <-p.done:
		case <-r.Context().Done():
		}
		return
	case p.auth != "" && r.Header.Get("Proxy-Authorization") != p.auth:
		w.Header().Set("Proxy-Authenticate", `Basic realm="outboundtest"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	case p.opts.Status != 0:
		w.WriteHeader(p.opts.Status)
		return
	}
	dest, err := net.DialTimeout("tcp", r.Host, 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = dest.Close()
		return
	}
	p.mu.Lock()
	p.tunnels[r.Host]++
	p.from[dest.LocalAddr().String()] = true
	p.open = append(p.open, client, dest)
	p.mu.Unlock()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	go pipe(dest, rw.Reader) // rw.Reader: bytes the client sent early
	go pipe(client, dest)
}

// pipe copies until either side ends, then closes dst so that the other
// direction ends too.
func pipe(dst net.Conn, src io.Reader) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
}

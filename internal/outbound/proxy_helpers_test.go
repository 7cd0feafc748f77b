package outbound

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connectProxy is a small CONNECT proxy on loopback for the tests: it
// counts the tunnels per destination, remembers the local address of every
// connection it made to a destination (so a test can tell that a request
// arrived through it), and refuses anything but CONNECT.
type connectProxy struct {
	srv *httptest.Server
	URL *url.URL

	auth   string // when set, the Proxy-Authorization a CONNECT needs
	status int    // when set, every CONNECT is answered with it
	hang   chan struct{}

	conns atomic.Int32 // connections accepted by the proxy
	plain atomic.Int32 // requests that were not CONNECT

	mu      sync.Mutex
	tunnels map[string]int  // destination → tunnels opened
	from    map[string]bool // local addresses of the proxy's outgoing connections
	open    []net.Conn      // hijacked and dialled connections, closed at cleanup
}

// newConnectProxy starts a proxy; secure makes it an https:// proxy (TLS
// to the proxy, whose certificate the caller then trusts via
// Options.proxyTLS = p.tlsConfig()).
func newConnectProxy(t testing.TB, secure bool, configure func(*connectProxy)) *connectProxy {
	t.Helper()
	p := &connectProxy{tunnels: map[string]int{}, from: map[string]bool{}}
	if configure != nil {
		configure(p)
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	if secure {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(func() {
		if p.hang != nil {
			close(p.hang)
		}
		p.srv.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.open {
			_ = c.Close()
		}
	})
	u, err := url.Parse(p.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p.URL = u
	return p
}

// tlsConfig trusts the certificate of an https proxy (nil for an http
// one).
func (p *connectProxy) tlsConfig() *tls.Config {
	if p.srv.TLS == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

func (p *connectProxy) tunnelsTo(dest string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels[dest]
}

func (p *connectProxy) totalTunnels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.tunnels {
		n += v
	}
	return n
}

// carried reports whether remote (a receiver's r.RemoteAddr) is one of the
// proxy's own outgoing connections.
func (p *connectProxy) carried(remote string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.from[remote]
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		p.plain.Add(1)
		http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
		return
	}
	if p.hang != nil {
		select {
		case <-p.hang:
		case <-r.Context().Done():
		}
		return
	}
	if p.auth != "" && r.Header.Get("Proxy-Authorization") != p.auth {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	if p.status != 0 {
		w.WriteHeader(p.status)
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
	go pipe(dest, rw.Reader)
	go pipe(client, dest)
}

// pipe copies until either side ends, then closes dst so the other
// direction ends too.
func pipe(dst net.Conn, src io.Reader) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
}

// serveOn starts a loopback server for h on the address ip (e.g.
// "127.0.0.2", a second loopback address, so that a guard can allow the
// proxy but not the receiver); tlsCfg, when set, makes it an https server.
func serveOn(t *testing.T, ip string, h http.Handler, tlsCfg *tls.Config) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	_ = srv.Listener.Close()
	srv.Listener = ln
	if tlsCfg != nil {
		srv.TLS = tlsCfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// testCA is a certificate authority made in the test, for client
// certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// client issues a client certificate (ExtKeyUsageClientAuth) for cn.
func (ca *testCA) client(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mtlsReceiver starts an https receiver on ip that requires a client
// certificate signed by ca (maxVersion 0: TLS 1.3) and answers 204 with
// the client certificate's CN in X-Client; it returns the server and the
// TLS config a client needs to trust it.
func mtlsReceiver(t *testing.T, ip string, ca *testCA, maxVersion uint16, h http.HandlerFunc) (*httptest.Server, *tls.Config) {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
			w.WriteHeader(http.StatusNoContent)
		}
	}
	srv := serveOn(t, ip, h, &tls.Config{
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  ca.pool,
		MaxVersion: maxVersion,
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv, &tls.Config{RootCAs: roots}
}

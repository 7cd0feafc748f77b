package outboundtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made in the test: it issues the client
// certificates of mutual TLS and the server certificates of receivers, so
// that a test can hand hookd a tls.ca file and a client_cert/client_key
// pair, as an operator would.
//
//	ca := outboundtest.NewCA(t, "receivers")
//	cert, key := ca.ClientPEM(t, "hookd")     // files for tls.client_cert and tls.client_key
//	srv := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{}, handler)
type CA struct {
	Cert *x509.Certificate
	Pool *x509.CertPool // holds Cert: RootCAs or ClientCAs
	key  *ecdsa.PrivateKey
	next atomic.Int64 // serial numbers
}

// NewCA makes a CA named name, valid for an hour either side of now.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
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
	ca := &CA{Cert: cert, Pool: pool, key: key}
	ca.next.Store(1)
	return ca
}

// PEM is the CA's certificate in PEM, the content of a tls.ca file.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Client issues a client certificate (ExtKeyUsageClientAuth) for cn.
func (ca *CA) Client(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	return ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// ClientPEM is Client as the two PEM files hookd reads: the certificate
// and its PKCS #8 private key.
func (ca *CA) ClientPEM(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	c := ca.Client(t, cn)
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// Server issues a server certificate for the IP addresses or DNS names in
// hosts.
func (ca *CA) Server(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(t, tmpl)
}

func (ca *CA) issue(t testing.TB, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = big.NewInt(ca.next.Add(1))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// ReceiverOptions configures [MTLSReceiver].
type ReceiverOptions struct {
	// IP is the loopback address to listen on; default 127.0.0.1.
	IP string
	// MaxVersion caps the TLS version (tls.VersionTLS12); 0: TLS 1.3.
	MaxVersion uint16
}

// MTLSReceiver starts an https server on loopback that requires a client
// certificate issued by ca and presents a server certificate issued by ca
// too (so ca.Pool, or a tls.ca file holding ca.PEM(), trusts it). The
// server's own log of refused handshakes is discarded: refusing is what
// it is for.
func MTLSReceiver(t testing.TB, ca *CA, opts ReceiverOptions, h http.Handler) *httptest.Server {
	t.Helper()
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	srv := Listen(t, opts.IP, h)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server(t, opts.IP)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool,
		MaxVersion:   opts.MaxVersion,
	}
	srv.StartTLS()
	return srv
}

// Listen returns an unstarted httptest server for h listening on ip (e.g.
// "127.0.0.2": a second loopback address, so that an SSRF guard can allow
// one server and not another), with its error log discarded. The caller
// starts it (Start or StartTLS); it is closed when the test ends.
func Listen(t testing.TB, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	_ = srv.Listener.Close()
	srv.Listener = ln
	t.Cleanup(srv.Close)
	return srv
}

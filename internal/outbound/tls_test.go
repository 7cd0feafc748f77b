package outbound

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookrt/hookd/internal/outbound/outboundtest"
)

// TestMutualTLS sends to a receiver that requires a client certificate from
// a CA made in the test: without Options.TLS certificates it is refused
// (with a text that names the missing certificate), with one from another
// CA it is refused (naming our certificate), with the right one it gets
// the request. Both TLS 1.3 (where the refusal arrives after the
// handshake, as an alert on the first read) and TLS 1.2.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := outboundtest.NewCA(t, "receiver's CA")
	other := outboundtest.NewCA(t, "some other CA")
	good, bad := ca.Client(t, "hookd"), other.Client(t, "hookd")

	for _, v := range []struct {
		name string
		max  uint16
	}{{"TLS 1.3", 0}, {"TLS 1.2", tls.VersionTLS12}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{MaxVersion: v.max}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
				w.WriteHeader(http.StatusNoContent)
			}))
			withCert := func(c *tls.Certificate) *tls.Config {
				cfg := &tls.Config{RootCAs: ca.Pool}
				if c != nil {
					cfg.Certificates = []tls.Certificate{*c}
				}
				return cfg
			}
			do := func(cfg *tls.Config) (*Response, error) {
				c := New(Options{TLS: cfg})
				t.Cleanup(c.CloseIdleConnections)
				req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
				return c.Do(context.Background(), req)
			}

			resp, err := do(withCert(nil))
			t.Logf("without a certificate: %v", err)
			if err == nil {
				t.Fatalf("without a client certificate: Do = %d, nil; want an error", resp.Status)
			}
			if want := "the receiver requires a client certificate and none is configured"; !strings.Contains(err.Error(), want) {
				t.Errorf("without a client certificate: error = %q, want it to contain %q", err, want)
			}

			resp, err = do(withCert(&bad))
			t.Logf("with another CA's certificate: %v", err)
			if err == nil {
				t.Fatalf("with another CA's certificate: Do = %d, nil; want an error", resp.Status)
			}
			if want := "the receiver refused our client certificate"; !strings.Contains(err.Error(), want) {
				t.Errorf("with another CA's certificate: error = %q, want it to contain %q", err, want)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the receiver's handler ran %d times for refused clients", n)
			}

			resp, err = do(withCert(&good))
			if err != nil || resp.Status != http.StatusNoContent {
				t.Fatalf("with the client certificate: Do = %+v, %v; want 204", resp, err)
			}
			if got := resp.Header.Get("X-Client"); got != "hookd" {
				t.Errorf("the receiver saw client certificate %q, want hookd", got)
			}
		})
	}
}

// TestOptionsTLSIsCloned checks that changing the caller's tls.Config after
// New has no effect on the client.
func TestOptionsTLSIsCloned(t *testing.T) {
	t.Parallel()
	ca := outboundtest.NewCA(t, "ca")
	srv := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	cfg := &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Client(t, "hookd")}}
	c := New(Options{TLS: cfg})
	t.Cleanup(c.CloseIdleConnections)
	cfg.Certificates = nil
	cfg.RootCAs = nil
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if resp, err := c.Do(context.Background(), req); err != nil || resp.Status != http.StatusNoContent {
		t.Fatalf("Do = %+v, %v; want 204 with the config as it was at New", resp, err)
	}
}

package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	p256Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	otherEdKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// signKey makes a jwtsign.Key, failing the test on error.
func signKey(t testing.TB, k crypto.Signer, alg string) *jwtsign.Key {
	t.Helper()
	key, err := jwtsign.NewKey(k, alg)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// writeKey writes k as a PKCS #8 PEM file, mode 0600, in dir.
func writeKey(t testing.TB, dir, name string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// jwksServer serves a JWKS of the keys given, which set replaces, and
// counts the GETs.
type jwksServer struct {
	*httptest.Server
	doc  atomic.Pointer[[]byte]
	gets atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...*jwtsign.Key) *jwksServer {
	s := &jwksServer{}
	s.set(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gets.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...*jwtsign.Key) {
	doc := jwtsign.JWKS(keys...)
	s.doc.Store(&doc)
}

// testRun is the run id the tests' events carry.
const testRun = "testrun1"

// newTestReceiver serves a receiver on loopback and returns it, its
// tracker and its URL.
func newTestReceiver(t testing.TB, mode string, paths []string, keys *keySet) (*receiver, *tracker, string) {
	t.Helper()
	tr := newTracker(time.Now(), testRun, paths)
	rc := newReceiver(mode, tr, keys, time.Minute)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, tr, srv.URL
}

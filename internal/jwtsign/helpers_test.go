package jwtsign_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Keys are generated once per test binary: RSA generation dominates the
// run time otherwise, and nothing here depends on fresh keys.
var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	p256Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	p384Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) })
	p521Key = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)) })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey {
		_, k := must2(ed25519.GenerateKey(rand.Reader))
		return k
	})
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8PEM(k any) []byte { return pemBlock("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(k))) }

func pkcs1PEM(k *rsa.PrivateKey) []byte {
	return pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
}

func sec1PEM(k *ecdsa.PrivateKey) []byte {
	return pemBlock("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(k)))
}

// sec1ParamsPEM is what `openssl ecparam -genkey -name prime256v1` writes:
// the curve OID in an "EC PARAMETERS" block, then the SEC1 key.
func sec1ParamsPEM(k *ecdsa.PrivateKey) []byte {
	oids := map[elliptic.Curve]asn1.ObjectIdentifier{
		elliptic.P256(): {1, 2, 840, 10045, 3, 1, 7},
		elliptic.P384(): {1, 3, 132, 0, 34},
		elliptic.P521(): {1, 3, 132, 0, 35},
	}
	params := pemBlock("EC PARAMETERS", must(asn1.Marshal(oids[k.Curve])))
	return append(params, sec1PEM(k)...)
}

// writeKey writes data to dir/name with exactly mode (no umask), and
// returns name.
func writeKey(t testing.TB, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return name
}

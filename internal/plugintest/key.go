package plugintest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// SigningKey writes a new P-256 key as name (mode 0600) in a private
// directory, loads it the way hookd does, and returns it.
func SigningKey(t testing.TB, name string) *jwtsign.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := jwtsign.LoadKey(dir, name, "")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

package deliverytest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// PrivateDir makes a temporary directory for a config (dir) with its
// private directory, dir/private (mode 0700), where the files a delivery
// table names are looked up by default.
func PrivateDir(t testing.TB) (dir, priv string) {
	t.Helper()
	dir = t.TempDir()
	priv = filepath.Join(dir, "private")
	if err := os.Mkdir(priv, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, priv
}

// KeyPEM returns a fresh Ed25519 private key and its PKCS #8 PEM, as
// `openssl genpkey -algorithm ed25519` writes it.
func KeyPEM(t testing.TB) (ed25519.PrivateKey, []byte) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WriteKey writes a fresh Ed25519 private key ([KeyPEM]) to dir/name with
// mode 0600 (a JWT webhook's private_key, a signing_key) and returns it.
func WriteKey(t testing.TB, dir, name string) ed25519.PrivateKey {
	t.Helper()
	key, b := KeyPEM(t)
	WriteSecretFile(t, dir, name, string(b))
	return key
}

// Runtime is what [EmitFiltered] needs of a runtime (*runtime.Runtime).
type Runtime interface {
	Emit(ctx context.Context, fields map[string]string) (string, error)
	ListDeliveries(ctx context.Context, f hook.DeliveryFilter) ([]hook.Delivery, error)
}

// EmitFiltered emits an event a delivery table's filter keeps out and
// fails t unless it created no delivery to target ("": to any target):
// a filtered-out event creates no delivery at all, it does not fail one.
func EmitFiltered(t testing.TB, rt Runtime, fields map[string]string, target string) {
	t.Helper()
	id, err := rt.Emit(t.Context(), fields)
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := rt.ListDeliveries(t.Context(), hook.DeliveryFilter{EventID: id, Target: target}); err != nil || len(ds) != 0 {
		t.Fatalf("the filtered-out event has deliveries %+v (%v); want none", ds, err)
	}
}

package jwtsign_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestLoadKeyRefusals checks that every refusal says what is wrong and
// what to do, and wraps the right sentinel.
func TestLoadKeyRefusals(t *testing.T) {
	t.Parallel()
	edPEM := pkcs8PEM(edKey())
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // writes the file, returns the name to load
		alg   string
		want  []string // substrings of the error, in any order
		is    error
	}{
		{
			name:  "hmac secret",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", randomBytes(32), 0o600) },
			want:  []string{"not a PEM private key; symmetric (HMAC) secrets are not supported: use an RSA, EC (P-256/384/521) or Ed25519 private key"},
			is:    jwtsign.ErrUnsupportedKey,
		},
		{
			name:  "alg none",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o600) },
			alg:   "none",
			want:  []string{`alg "none" means an unsigned token; only asymmetric algorithms are supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA`},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "alg HS256",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o600) },
			alg:   "HS256",
			want:  []string{"alg HS256 is symmetric; only asymmetric algorithms are supported: RS256,"},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "alg unknown",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o600) },
			alg:   "rs256",
			want:  []string{`alg "rs256" is not supported; use one of RS256,`},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "rsa with ES256",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", pkcs1PEM(rsaKey()), 0o600) },
			alg:   "ES256",
			want:  []string{"alg ES256 does not fit an RSA key; use one of RS256, RS384, RS512, PS256, PS384, PS512 (or leave alg empty for RS256)"},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "p256 with ES384",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", sec1PEM(p256Key()), 0o600) },
			alg:   "ES384",
			want:  []string{"alg ES384 does not fit an EC P-256 key; use ES256 (or leave alg empty)"},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "ed25519 with RS256",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o600) },
			alg:   "RS256",
			want:  []string{"alg RS256 does not fit an Ed25519 key; use EdDSA"},
			is:    jwtsign.ErrUnsupportedAlg,
		},
		{
			name:  "mode 0640",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o640) },
			want:  []string{"k.pem is readable by group or others (mode 0640); chmod 600 it"},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "mode 0604",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o604) },
			want:  []string{"is readable by group or others (mode 0604); chmod 600 it"},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "mode 0610",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", edPEM, 0o610) },
			want:  []string{"is accessible by group or others (mode 0610); chmod 600 it"},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "symlink out",
			setup: func(t *testing.T, dir string) string {
				outside := t.TempDir()
				writeKey(t, outside, "real.pem", edPEM, 0o600)
				symlink(t, filepath.Join("..", filepath.Base(outside), "real.pem"), filepath.Join(dir, "k.pem"))
				return "k.pem"
			},
			want: []string{`k.pem is a symlink that leads out of the private directory (to ../`, `real.pem): put the file itself (or a link within the directory) there`},
			is:   jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "absolute symlink",
			setup: func(t *testing.T, dir string) string {
				symlink(t, filepath.Join(dir, writeKey(t, dir, "real.pem", edPEM, 0o600)), filepath.Join(dir, "k.pem"))
				return "k.pem"
			},
			want: []string{`k.pem is a symlink to an absolute path (`, `): a link in the private directory must be relative (as Kubernetes makes them)`},
			is:   jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "symlinked directory out",
			setup: func(t *testing.T, dir string) string {
				outside := t.TempDir()
				writeKey(t, outside, "k.pem", edPEM, 0o600)
				symlink(t, filepath.Join("..", filepath.Base(outside)), filepath.Join(dir, "sub"))
				return "sub/k.pem"
			},
			want: []string{`sub/k.pem: `, `/sub is a symlink that leads out of the private directory`},
			is:   jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "mode 0644 through a link",
			setup: func(t *testing.T, dir string) string {
				writeKey(t, dir, "real.pem", edPEM, 0o644)
				symlink(t, "real.pem", filepath.Join(dir, "k.pem"))
				return "k.pem"
			},
			want: []string{"k.pem is readable by group or others (mode 0644); chmod 600 it"},
			is:   jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "dot dot",
			setup: func(*testing.T, string) string { return "../x.pem" },
			want:  []string{`file "../x.pem" leaves the private directory: ".." is not allowed`},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "dot dot inside",
			setup: func(*testing.T, string) string { return "a/../../x.pem" },
			want:  []string{`leaves the private directory`},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "absolute",
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(dir, writeKey(t, dir, "k.pem", edPEM, 0o600))
			},
			want: []string{"is absolute: a name relative to the private directory is allowed"},
			is:   jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "empty name",
			setup: func(*testing.T, string) string { return "" },
			want:  []string{"an empty file name is not allowed: name a file in the private directory"},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "directory",
			setup: func(t *testing.T, dir string) string { mkdir(t, filepath.Join(dir, "k.pem")); return "k.pem" },
			want:  []string{`k.pem is a directory: name a file in it`},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "missing",
			setup: func(*testing.T, string) string { return "k.pem" },
			want:  []string{`k.pem does not exist`},
			is:    fs.ErrNotExist,
		},
		{
			name:  "empty file",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", nil, 0o600) },
			want:  []string{`k.pem is empty; it should hold a PEM private key`},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name:  "1 MiB file",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", make([]byte, 1<<20), 0o600) },
			want:  []string{`k.pem is larger than 64 KiB; it should hold a PEM private key`},
			is:    jwtsign.ErrUnsafeKeyFile,
		},
		{
			name: "encrypted PKCS#1",
			setup: func(t *testing.T, dir string) string {
				return writeKey(t, dir, "k.pem", pem.EncodeToMemory(&pem.Block{
					Type:    "RSA PRIVATE KEY",
					Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
					Bytes:   randomBytes(1200),
				}), 0o600)
			},
			want: []string{`PEM block "RSA PRIVATE KEY" is encrypted; encrypted private keys are not supported: decrypt it`},
			is:   jwtsign.ErrUnsupportedKey,
		},
		{
			name: "encrypted PKCS#8",
			setup: func(t *testing.T, dir string) string {
				return writeKey(t, dir, "k.pem", pemBlock("ENCRYPTED PRIVATE KEY", randomBytes(200)), 0o600)
			},
			want: []string{`PEM block "ENCRYPTED PRIVATE KEY" is encrypted; encrypted private keys are not supported: decrypt it`},
			is:   jwtsign.ErrUnsupportedKey,
		},
		{
			name: "public key",
			setup: func(t *testing.T, dir string) string {
				der := must(x509.MarshalPKIXPublicKey(edKey().Public()))
				return writeKey(t, dir, "k.pem", pemBlock("PUBLIC KEY", der), 0o600)
			},
			want: []string{`PEM block "PUBLIC KEY" is a public key; a private key is needed to sign`},
			is:   jwtsign.ErrUnsupportedKey,
		},
		{
			name:  "certificate",
			setup: func(t *testing.T, dir string) string { return writeKey(t, dir, "k.pem", certificatePEM(t), 0o600) },
			want:  []string{`PEM block "CERTIFICATE" is a certificate; a private key is needed to sign`},
			is:    jwtsign.ErrUnsupportedKey,
		},
		{
			name: "rsa 1024",
			setup: func(t *testing.T, dir string) string {
				small := must(rsa.GenerateKey(rand.Reader, 1024))
				return writeKey(t, dir, "k.pem", pkcs1PEM(small), 0o600)
			},
			want: []string{"RSA key is 1024 bits; at least 2048 bits are required"},
			is:   jwtsign.ErrUnsupportedKey,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if runtime.GOOS == "windows" && strings.HasPrefix(tt.name, "mode") {
				t.Skip("LoadKey does not check mode bits on Windows")
			}
			dir := t.TempDir()
			name := tt.setup(t, dir)
			key, err := jwtsign.LoadKey(dir, name, tt.alg)
			if err == nil {
				t.Fatalf("LoadKey(%q, %q) = %v, want an error", name, tt.alg, key)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q\nwant it to contain %q", err, w)
				}
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error = %q, want errors.Is(err, %v)", err, tt.is)
			}
			// One message per problem: no wrapped error repeats it.
			if strings.Count(err.Error(), "does not exist") > 1 || strings.Count(err.Error(), "no such file") > 0 {
				t.Errorf("error = %q says the same thing twice", err)
			}
		})
	}
}

// TestLoadKeyKubernetesSecretVolume: a key mounted from a Kubernetes
// secret (defaultMode 0400) is a link to a link within the private
// directory; it is followed, as internal/delivery follows it, and the key
// is the file the links lead to.
func TestLoadKeyKubernetesSecretVolume(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, k := must2(ed25519.GenerateKey(rand.Reader))
	_, old := must2(ed25519.GenerateKey(rand.Reader))
	mkdir(t, filepath.Join(dir, "..2026_12_06_18_00_00.000000001")) // the previous revision, kept by the kubelet for a while
	writeKey(t, dir, "..2026_12_06_18_00_00.000000001/webhook.pem", pkcs8PEM(old), 0o400)
	mkdir(t, filepath.Join(dir, "..2026_12_06_19_00_00.000000001"))
	writeKey(t, dir, "..2026_12_06_19_00_00.000000001/webhook.pem", pkcs8PEM(k), 0o400)
	symlink(t, "..2026_12_06_19_00_00.000000001", filepath.Join(dir, "..data"))
	symlink(t, "..data/webhook.pem", filepath.Join(dir, "webhook.pem"))
	key, err := jwtsign.LoadKey(dir, "webhook.pem", "")
	if err != nil {
		t.Fatalf("LoadKey through the secret volume's links: %v", err)
	}
	if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Error("LoadKey read another key than the one the links lead to")
	}
	// The directory link on the way is followed too.
	if _, err := jwtsign.LoadKey(dir, "..data/webhook.pem", ""); err != nil {
		t.Errorf("LoadKey(..data/webhook.pem): %v", err)
	}
}

// TestLoadKeyAccepts covers the file layouts that must keep working.
func TestLoadKeyAccepts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "keys"))
	for _, name := range []string{
		writeKey(t, dir, "k.pem", pkcs8PEM(edKey()), 0o600),
		writeKey(t, dir, "ro.pem", pkcs8PEM(edKey()), 0o400),
		writeKey(t, dir, "keys/k.pem", pkcs8PEM(edKey()), 0o600),
		"./keys/../k.pem",
	} {
		if _, err := jwtsign.LoadKey(dir, name, ""); err != nil {
			t.Errorf("LoadKey(%q): %v", name, err)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symlinks here: %v", err)
	}
}

func certificatePEM(t *testing.T) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hookd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, edKey().Public(), edKey())
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der)
}

package delivery_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// k8sVolume lays p out as a Kubernetes secret volume mounts one (defaultMode
// 0400): each name is a link to ..data/name, ..data a link to the current
// revision's directory; the previous revision stays beside it for a while.
// It returns the current revision's v1a key, and the previous one's.
func k8sVolume(t *testing.T, p *private) (key, old ed25519.PrivateKey) {
	t.Helper()
	old, oldPEM := deliverytest.KeyPEM(t)
	key, keyPEM := deliverytest.KeyPEM(t)
	certPEM, clientKeyPEM, _ := clientCert(t)
	p.write("..2026_12_06_18_00_00.1/swh.pem", oldPEM, 0o400)
	p.write("..2026_12_06_19_00_00.1/swh.pem", keyPEM, 0o400)
	p.write("..2026_12_06_19_00_00.1/whsec.txt", []byte(testSecret+"\n"), 0o400)
	p.write("..2026_12_06_19_00_00.1/client.pem", certPEM, 0o444)
	p.write("..2026_12_06_19_00_00.1/client.key", clientKeyPEM, 0o400)
	link(t, "..2026_12_06_19_00_00.1", filepath.Join(p.dir, "..data"))
	for _, name := range []string{"swh.pem", "whsec.txt", "client.pem", "client.key"} {
		link(t, filepath.Join("..data", name), filepath.Join(p.dir, name))
	}
	return key, old
}

func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skip("no symlinks here:", err)
	}
}

// TestViewEnvPublicKey: the view shows the v1a public key a receiver
// needs, read from the key file (here through a Kubernetes secret volume's
// links) as Build reads it: a receiver given only the view's "whpk_…"
// verifies the signature of a real request.
func TestViewEnvPublicKey(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	key, old := k8sVolume(t, p)
	s := &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{file("whsec.txt")}, SigningKey: "swh.pem"}

	v := delivery.ViewEnv(s, p.env())
	want := delivery.PublicKey(key.Public().(ed25519.PublicKey))
	if v == nil || v.PublicKey != want {
		t.Fatalf("ViewEnv = %+v; want PublicKey %q", v, want)
	}
	if v.PublicKey == delivery.PublicKey(old.Public().(ed25519.PublicKey)) {
		t.Error("the view shows the previous revision's key")
	}
	if b, _ := json.Marshal(v); !strings.Contains(string(b), `"public_key":"`+want+`"`) {
		t.Errorf("JSON %s lacks public_key", b)
	}
	if v.Signing != "standard-webhooks: v1 with 1 secret from file whsec.txt, v1a with the Ed25519 key in swh.pem" {
		t.Errorf("Signing = %q", v.Signing)
	}

	h, err := delivery.Build(s, p.env())
	if err != nil {
		t.Fatal(err)
	}
	if h.PublicKey() != v.PublicKey {
		t.Errorf("the target signs with %q, the view shows %q", h.PublicKey(), v.PublicKey)
	}
	srv, got := receiver(t)
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	if resp := post(t, c, srv.URL, "ev-1", "EVENT=NEWSESSION"); resp.Status != http.StatusNoContent {
		t.Fatalf("status %d", resp.Status)
	}
	r := <-got
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v.PublicKey, delivery.PublicKeyPrefix))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		t.Fatalf("public key %q does not decode to %d bytes: %v", v.PublicKey, ed25519.PublicKeySize, err)
	}
	verified := false
	for _, sig := range strings.Fields(r.header.Get("webhook-signature")) {
		if b64, ok := strings.CutPrefix(sig, "v1a,"); ok {
			b, _ := base64.StdEncoding.DecodeString(b64)
			verified = ed25519.Verify(raw, []byte("ev-1."+r.header.Get("webhook-timestamp")+"."+string(r.body)), b)
		}
	}
	if !verified {
		t.Errorf("webhook-signature %q: no v1a signature verifies with the view's public key", r.header.Get("webhook-signature"))
	}
}

// TestViewEnvWithoutKey: no public key without signing_key or without the
// private directory (View), and none but a note when the file cannot be
// read now, or is one the rule refuses (a link out of the directory).
func TestViewEnvWithoutKey(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	k8sVolume(t, p)
	outside := filepath.Join(t.TempDir(), "swh.pem")
	_, pemBytes := deliverytest.KeyPEM(t)
	if err := os.WriteFile(outside, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	link(t, outside, filepath.Join(p.dir, "out.pem"))
	sw := func(key string) *hook.DeliverySettings {
		return &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}, SigningKey: key}
	}
	const note = " (its public key cannot be read now: see hookd check)"
	for _, tc := range []struct {
		name    string
		v       *hook.DeliveryView
		signing string
	}{
		{"secrets only", delivery.ViewEnv(sw(""), p.env()), "standard-webhooks: v1 with 1 secret"},
		{"no directory", delivery.View(sw("swh.pem"), ""), "standard-webhooks: v1 with 1 secret, v1a with the Ed25519 key in swh.pem"},
		{"missing", delivery.ViewEnv(sw("gone.pem"), p.env()), "standard-webhooks: v1 with 1 secret, v1a with the Ed25519 key in gone.pem" + note},
		{"link out", delivery.ViewEnv(sw("out.pem"), p.env()), "standard-webhooks: v1 with 1 secret, v1a with the Ed25519 key in out.pem" + note},
		{"not ed25519", delivery.ViewEnv(sw("client.key"), p.env()), "standard-webhooks: v1 with 1 secret, v1a with the Ed25519 key in client.key" + note},
	} {
		if tc.v == nil || tc.v.PublicKey != "" || tc.v.Signing != tc.signing {
			t.Errorf("%s: view %+v; want no public key and signing %q", tc.name, tc.v, tc.signing)
		}
	}
}

// TestBuildPrivateDirRule: Build reads every file (one-line secrets, the
// v1a key, the TLS certificate and key) under the private directory's one
// rule, the same jwtsign's keys follow: a Kubernetes secret volume's links
// are followed; a directory link leading out and an absolute link are
// refused, naming the link; the mode that counts is the file's, not the
// link's.
func TestBuildPrivateDirRule(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	key, _ := k8sVolume(t, p)
	h, err := delivery.Build(&hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"Authorization": file("..data/whsec.txt")},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{file("whsec.txt")},
		SigningKey:     "swh.pem",
		TLS:            hook.TLSSettings{ClientCert: "client.pem", ClientKey: "client.key"},
	}, p.env())
	if err != nil {
		t.Fatalf("Build through the secret volume's links: %v", err)
	}
	if want := delivery.PublicKey(key.Public().(ed25519.PublicKey)); h.PublicKey() != want {
		t.Errorf("PublicKey() = %q, want the current revision's %q", h.PublicKey(), want)
	}

	outside := t.TempDir()
	p.write("plain.pem", []byte("x"), 0o600)
	p.write("open.txt", []byte(testSecret), 0o644)
	link(t, filepath.Join("..", filepath.Base(outside)), filepath.Join(p.dir, "elsewhere"))
	link(t, filepath.Join(p.dir, "plain.pem"), filepath.Join(p.dir, "abs.pem"))
	link(t, "open.txt", filepath.Join(p.dir, "open-link.txt"))
	for _, tc := range []struct {
		name string
		s    *hook.DeliverySettings
		want string
	}{
		{"directory link out", &hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "elsewhere/swh.pem"},
			"signing_key: " + filepath.Join(p.dir, "elsewhere/swh.pem") + ": " + filepath.Join(p.dir, "elsewhere") + " is a symlink that leads out of the private directory (to ../"},
		{"absolute link", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "abs.pem"}},
			"tls.ca: " + filepath.Join(p.dir, "abs.pem") + " is a symlink to an absolute path (" + filepath.Join(p.dir, "plain.pem") + "): a link in the private directory must be relative (as Kubernetes makes them)"},
		{"link to an exposed secret", &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{file("open-link.txt")}},
			"signing_secrets[0]: " + filepath.Join(p.dir, "open-link.txt") + " is readable by group or others (mode 0644); chmod 600 it"},
	} {
		if strings.Contains(tc.want, "mode") && runtime.GOOS == "windows" { // modes do not say who may read there
			continue
		}
		if _, err := delivery.Build(tc.s, p.env()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Build error %v;\nwant it to say %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkViewEnv is the cost of a view that reads the v1a key (each
// TargetStatus builds one per target): one small file read through the
// private directory's rule, a PEM parse and the public key.
func BenchmarkViewEnv(b *testing.B) {
	p := &private{t: b, dir: b.TempDir()}
	_, pemBytes := deliverytest.KeyPEM(b)
	p.write("swh.pem", pemBytes, 0o600)
	s := &hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "swh.pem"}
	b.ReportAllocs()
	for b.Loop() {
		if v := delivery.ViewEnv(s, p.env()); v.PublicKey == "" {
			b.Fatal(v)
		}
	}
}

package delivery_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// private is a private directory for one test, with helpers to put files in it.
type private struct {
	t   testing.TB
	dir string
}

func newPrivate(t testing.TB) *private { return &private{t: t, dir: t.TempDir()} }

func (p *private) write(name string, data []byte, mode os.FileMode) {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		p.t.Fatal(err)
	}
}

func (p *private) env() delivery.Env { return delivery.Env{PrivateDir: p.dir} }

// pemBlock encodes der as one PEM block.
func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// clientCert returns a self-signed client certificate and its key, as PEM,
// and the certificate for the receiver's pool.
func clientCert(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hookd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder), cert
}

// received is one request as a receiver saw it.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a loopback HTTP server that records the requests it gets.
func receiver(t *testing.T) (*httptest.Server, <-chan received) {
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func post(t *testing.T, c *outbound.Client, url, eventID, body string) *outbound.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if eventID != "" {
		req.Header.Set("X-Event-Id", eventID)
	}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	return resp
}

// hmacV1 is the v1 signature as the specification defines it, computed
// here independently of the package's signer.
func hmacV1(secret, id, ts string, body []byte) string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// A second valid secret, for the rotation.
const testSecret2 = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="

func TestBuildHeadersAndSigning(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	p.write("hook.token", []byte("Bearer s3cret\n"), 0o600)
	p.write("whsec.txt", []byte(strings.TrimPrefix(testSecret2, "whsec_")+"\n"), 0o600) // the prefix is optional in a file
	key, keyPEM := deliverytest.KeyPEM(t)
	p.write("keys/swh.pem", keyPEM, 0o600)

	h, err := delivery.Build(&hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"authorization": file("hook.token"), "X-Tenant": lit("acme")},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{lit(testSecret), file("whsec.txt")},
		SigningKey:     "keys/swh.pem",
	}, p.env())
	if err != nil {
		t.Fatal(err)
	}
	if h.Shared() {
		t.Error("Shared() with headers and signing")
	}
	if want := delivery.PublicKey(key.Public().(ed25519.PublicKey)); h.PublicKey() != want {
		t.Errorf("PublicKey() = %q, want %q", h.PublicKey(), want)
	}
	srv, got := receiver(t)
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()

	for attempt := range 2 { // a retry: the same id, signed afresh
		before := time.Now().Unix()
		body := "MODULE=ISL_LIGHT&EVENT=NEWSESSION&n=" + strconv.Itoa(attempt)
		if resp := post(t, c, srv.URL, "ev-123", body); resp.Status != http.StatusNoContent {
			t.Fatalf("status %d", resp.Status)
		}
		r := <-got
		if v := r.header.Get("Authorization"); v != "Bearer s3cret" {
			t.Errorf("Authorization = %q (a file's trailing newline is trimmed)", v)
		}
		if v := r.header.Get("X-Tenant"); v != "acme" {
			t.Errorf("X-Tenant = %q", v)
		}
		if v := r.header.Get("webhook-id"); v != "ev-123" {
			t.Errorf("webhook-id = %q, want the X-Event-Id", v)
		}
		ts := r.header.Get("webhook-timestamp")
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < before || n > time.Now().Unix() {
			t.Errorf("webhook-timestamp = %q, want the attempt's time", ts)
		}
		sigs := strings.Fields(r.header.Get("webhook-signature"))
		if len(sigs) != 3 {
			t.Fatalf("webhook-signature = %q, want v1 twice and v1a", sigs)
		}
		if want := hmacV1(testSecret, "ev-123", ts, r.body); sigs[0] != want {
			t.Errorf("first v1 = %q, want %q", sigs[0], want)
		}
		if want := hmacV1(testSecret2, "ev-123", ts, r.body); sigs[1] != want {
			t.Errorf("second v1 = %q, want %q", sigs[1], want)
		}
		sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sigs[2], "v1a,"))
		if !strings.HasPrefix(sigs[2], "v1a,") || err != nil ||
			!ed25519.Verify(key.Public().(ed25519.PublicKey), []byte("ev-123."+ts+"."+string(r.body)), sig) {
			t.Errorf("v1a = %q does not verify", sigs[2])
		}
		if string(r.body) != body {
			t.Errorf("body %q, want %q (signing must not eat it)", r.body, body)
		}
	}
}

func TestBuildSignsWithoutEventID(t *testing.T) {
	t.Parallel()
	h, err := delivery.Build(&hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}}, delivery.Env{})
	if err != nil {
		t.Fatal(err)
	}
	srv, got := receiver(t)
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	ids := map[string]bool{}
	for range 2 {
		post(t, c, srv.URL, "", `{"call":1}`)
		r := <-got
		id := r.header.Get("webhook-id")
		if id == "" || ids[id] {
			t.Fatalf("webhook-id %q: want a fresh id for a request without X-Event-Id", id)
		}
		ids[id] = true
		if want := hmacV1(testSecret, id, r.header.Get("webhook-timestamp"), r.body); r.header.Get("webhook-signature") != want {
			t.Errorf("signature %q, want %q", r.header.Get("webhook-signature"), want)
		}
	}
}

// TestBuildSignsBatchID: a combined request's webhook-id is its first
// event's id and its size, so that a retry carrying more events (come
// meanwhile) is a new message to a receiver that deduplicates on it.
func TestBuildSignsBatchID(t *testing.T) {
	t.Parallel()
	h, err := delivery.Build(&hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}}, delivery.Env{})
	if err != nil {
		t.Fatal(err)
	}
	srv, got := receiver(t)
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	for _, n := range []string{"2", "2", "3"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("a=1"))
		req.Header.Set("X-Event-Id", "e1")
		req.Header.Set("X-Hookd-Batch", n)
		if _, err := c.Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		r := <-got
		id := r.header.Get("webhook-id")
		if id != "e1+"+n || r.header.Get("webhook-signature") != hmacV1(testSecret, id, r.header.Get("webhook-timestamp"), r.body) {
			t.Errorf("batch of %s: webhook-id %q, signature %q", n, id, r.header.Get("webhook-signature"))
		}
	}
}

// A body without GetBody (an io.Reader http.NewRequest does not know) is
// read for the signature and still sent whole.
func TestOptionsBodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	h, err := delivery.Build(&hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}}, delivery.Env{})
	if err != nil {
		t.Fatal(err)
	}
	srv, got := receiver(t)
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(strings.NewReader("a=1"), strings.NewReader("&b=2")))
	req.Header.Set("X-Event-Id", "e")
	if _, err := c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if string(r.body) != "a=1&b=2" || r.header.Get("webhook-signature") != hmacV1(testSecret, "e", r.header.Get("webhook-timestamp"), r.body) {
		t.Errorf("body %q, signature %q", r.body, r.header.Get("webhook-signature"))
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	var h *delivery.HTTP
	base := outbound.Options{Timeout: time.Second, UserAgent: "x"}
	if got := h.Options(base); got.TLS != nil || got.Proxy != nil || got.Prepare != nil || got.Timeout != time.Second {
		t.Errorf("nil HTTP changed the options: %+v", got)
	}
	if !h.Shared() || h.PublicKey() != "" {
		t.Error("nil HTTP: Shared() false or a public key")
	}
	for _, s := range []*hook.DeliverySettings{nil, {}, {RateLimit: 5, OrderedBy: "SESSIONID", Filter: hook.EventFilter{Events: []string{"X"}}}, {Proxy: "direct"}} {
		if h, err := delivery.Build(s, delivery.Env{Proxy: "direct"}); h != nil || err != nil {
			t.Errorf("Build(%+v) = %v, %v; want nil, nil (nothing for the client)", s, h, err)
		}
	}

	// The proxy: the target's own, else [delivery] proxy, "direct" opts out.
	h, err := delivery.Build(nil, delivery.Env{Proxy: "http://egress.example:3128"})
	if err != nil || h == nil || h.Shared() {
		t.Fatalf("Build with a default proxy: %v, %v", h, err)
	}
	if got := h.Options(base); got.Proxy == nil || got.Proxy.String() != "http://egress.example:3128" || got.Timeout != time.Second || got.Prepare != nil {
		t.Errorf("Options: %+v", got)
	}
	h, err = delivery.Build(&hook.DeliverySettings{Proxy: "https://own.example:443"}, delivery.Env{Proxy: "http://egress.example:3128"})
	if err != nil || h.Options(base).Proxy.String() != "https://own.example:443" {
		t.Errorf("own proxy: %v, %v", h, err)
	}
	if h, err := delivery.Build(&hook.DeliverySettings{Proxy: "direct"}, delivery.Env{Proxy: "http://egress.example:3128"}); h != nil || err != nil {
		t.Errorf("direct: %v, %v; want no client of its own", h, err)
	}
	if _, err := delivery.Build(nil, delivery.Env{Proxy: "socks5://x:1"}); err == nil || !strings.Contains(err.Error(), "proxy (from [delivery] proxy):") {
		t.Errorf("bad default proxy: %v", err)
	}

	// A Prepare in base runs first; an error there stops the request.
	h, err = delivery.Build(&hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit("1")}}, delivery.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	base.Prepare = func(r *http.Request) error {
		order = append(order, "base:"+r.Header.Get("X-A"))
		return nil
	}
	r := httptest.NewRequest(http.MethodPost, "http://x/", nil)
	if err := h.Options(base).Prepare(r); err != nil || len(order) != 1 || order[0] != "base:" || r.Header.Get("X-A") != "1" {
		t.Errorf("Prepare: %v, order %v, X-A %q", err, order, r.Header.Get("X-A"))
	}
	boom := errors.New("boom")
	base.Prepare = func(*http.Request) error { return boom }
	r = httptest.NewRequest(http.MethodPost, "http://x/", nil)
	if err := h.Options(base).Prepare(r); !errors.Is(err, boom) || r.Header.Get("X-A") != "" {
		t.Errorf("Prepare after a failing base: %v, X-A %q", err, r.Header.Get("X-A"))
	}
}

func TestBuildMutualTLS(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM, cert := clientCert(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	p := newPrivate(t)
	p.write("client.pem", certPEM, 0o644) // a certificate is public
	p.write("client.key", keyPEM, 0o600)
	p.write("ca.pem", pemBlock("CERTIFICATE", srv.Certificate().Raw), 0o644)

	// Without the certificate (but trusting the receiver): refused.
	h, err := delivery.Build(&hook.DeliverySettings{TLS: hook.TLSSettings{CA: "ca.pem"}}, p.env())
	if err != nil {
		t.Fatal(err)
	}
	c := outbound.New(h.Options(outbound.Options{}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	if resp, err := c.Do(context.Background(), req); err == nil {
		t.Errorf("without a client certificate: HTTP %d, want the handshake refused", resp.Status)
	}
	c.CloseIdleConnections()

	h, err = delivery.Build(&hook.DeliverySettings{TLS: hook.TLSSettings{ClientCert: "client.pem", ClientKey: "client.key", CA: "ca.pem"}}, p.env())
	if err != nil {
		t.Fatal(err)
	}
	c = outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	resp := post(t, c, srv.URL, "e", "x")
	if resp.Status != http.StatusNoContent || resp.Header.Get("X-Client") != "hookd" {
		t.Errorf("with the client certificate: HTTP %d, client %q", resp.Status, resp.Header.Get("X-Client"))
	}
}

func TestBuildFileErrors(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	p.write("open.token", []byte("x"), 0o644)
	p.write("ok.token", []byte("x"), 0o600)
	p.write("crlf.token", []byte("a\tb\x01c\n"), 0o600)
	p.write("short.txt", []byte("whsec_c2hvcnQ="), 0o600)
	_, edPEM := deliverytest.KeyPEM(t)
	p.write("open.pem", edPEM, 0o644)
	certPEM, keyPEM, _ := clientCert(t)
	p.write("ec.pem", keyPEM, 0o600)
	p.write("client.pem", certPEM, 0o644)
	p.write("client.key", keyPEM, 0o600)
	p.write("other.key", edPEM, 0o600)
	p.write("notpem.txt", []byte("hello"), 0o644)
	p.write("empty.pem", []byte("\n"), 0o600)
	if err := os.Symlink("/etc/hostname", filepath.Join(p.dir, "link.key")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(p.dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	sw := func(key string, secrets ...hook.Secret) *hook.DeliverySettings {
		return &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: secrets, SigningKey: key}
	}
	for _, tc := range []struct {
		name string
		s    *hook.DeliverySettings
		want string
	}{
		{"header mode", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("open.token")}}, `headers."X-A": ` + filepath.Join(p.dir, "open.token") + ` is readable by group or others (mode 0644); chmod 600 it`},
		{"header missing", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("gone.token")}}, `headers."X-A": ` + filepath.Join(p.dir, "gone.token") + ` does not exist`},
		{"header control", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("crlf.token")}}, `headers."X-A": file crlf.token: the value holds a control character (byte 3 is 0x01)`},
		{"secret mode", sw("", file("open.token")), `signing_secrets[0]: ` + filepath.Join(p.dir, "open.token") + ` is readable`},
		{"secret short", sw("", lit(testSecret), file("short.txt")), `signing_secrets[1]: signing secret decodes to 5 bytes`},
		{"secret not base64", sw("", file("ok.token")), `signing_secrets[0]: signing secret is not standard base64`},
		{"key mode", sw("open.pem"), `signing_key: ` + filepath.Join(p.dir, "open.pem") + ` is readable by group or others (mode 0644); chmod 600 it`},
		{"key not ed25519", sw("ec.pem"), `signing_key: ` + filepath.Join(p.dir, "ec.pem") + ` holds an ECDSA key: an Ed25519 private key is allowed`},
		{"key missing", sw("gone.pem"), `signing_key: ` + filepath.Join(p.dir, "gone.pem") + ` does not exist`},
		{"key empty", sw("empty.pem"), `is empty; it should hold PEM`},
		{"key directory", sw("adir"), `signing_key: ` + filepath.Join(p.dir, "adir") + ` is a directory: name a file in it`},
		{"key symlink out", sw("link.key"), `signing_key: ` + filepath.Join(p.dir, "link.key") + ` is a symlink that leads out of the private directory`},
		{"tls key mode", &hook.DeliverySettings{TLS: hook.TLSSettings{ClientCert: "client.pem", ClientKey: "notpem.txt"}}, `tls.client_key: ` + filepath.Join(p.dir, "notpem.txt") + ` is readable by group or others (mode 0644)`},
		{"tls mismatch", &hook.DeliverySettings{TLS: hook.TLSSettings{ClientCert: "client.pem", ClientKey: "other.key"}}, `tls: client.pem and other.key are not a PEM certificate and its private key`},
		{"tls ca not pem", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "notpem.txt"}}, `tls.ca: notpem.txt holds no PEM certificate`},
		{"tls cert missing", &hook.DeliverySettings{TLS: hook.TLSSettings{ClientCert: "gone.pem", ClientKey: "client.key"}}, `tls.client_cert: ` + filepath.Join(p.dir, "gone.pem") + ` does not exist`},
		{"invalid first", &hook.DeliverySettings{Headers: map[string]hook.Secret{"Host": file("ok.token")}}, `headers."Host": Host is not allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(tc.want, "mode") {
				t.Skip("modes do not say who may read on Windows")
			}
			h, err := delivery.Build(tc.s, p.env())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, %v; want an error saying %q", h, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), string(edPEM[30:60])) {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
	if _, err := delivery.Build(&hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("x")}}, delivery.Env{PrivateDir: filepath.Join(p.dir, "nope")}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing private directory: %v, want fs.ErrNotExist", err)
	}
}

// Links are followed within the private directory (a Kubernetes secret
// volume is made of them) and refused when they lead out of it, for
// one-line secrets as for PEM files.
func TestBuildSymlinks(t *testing.T) {
	t.Parallel()
	p := newPrivate(t)
	p.write("..data/hook.token", []byte("Bearer k8s\n"), 0o600)
	if err := os.Symlink("..data/hook.token", filepath.Join(p.dir, "hook.token")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	outside := filepath.Join(t.TempDir(), "leak.token")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(p.dir, "leak.token")); err != nil {
		t.Fatal(err)
	}
	h, err := delivery.Build(&hook.DeliverySettings{Headers: map[string]hook.Secret{"Authorization": file("hook.token")}}, p.env())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "http://x/", nil)
	if err := h.Options(outbound.Options{}).Prepare(r); err != nil || r.Header.Get("Authorization") != "Bearer k8s" {
		t.Errorf("through a link inside: %v, %q", err, r.Header.Get("Authorization"))
	}
	_, err = delivery.Build(&hook.DeliverySettings{Headers: map[string]hook.Secret{"Authorization": file("leak.token")}}, p.env())
	if want := filepath.Join(p.dir, "leak.token") + " is a symlink that leads out of the private directory"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a link out: %v, want %q", err, want)
	}
}

// A ContentLength that does not match the body (a caller's mistake) still
// signs exactly the bytes sent.
func TestPrepareContentLengthMismatch(t *testing.T) {
	t.Parallel()
	h, err := delivery.Build(&hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}}, delivery.Env{})
	if err != nil {
		t.Fatal(err)
	}
	prepare := h.Options(outbound.Options{}).Prepare
	for _, n := range []int64{1, 5, 6, 100, -1} {
		r := httptest.NewRequest(http.MethodPost, "http://x/", strings.NewReader("hello"))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("hello")), nil }
		r.ContentLength = n
		r.Header.Set("X-Event-Id", "e")
		if err := prepare(r); err != nil {
			t.Errorf("ContentLength %d: %v", n, err)
			continue
		}
		if want := hmacV1(testSecret, "e", r.Header.Get("webhook-timestamp"), []byte("hello")); r.Header.Get("webhook-signature") != want {
			t.Errorf("ContentLength %d: signed something else than the body", n)
		}
	}
}

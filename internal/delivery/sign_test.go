package delivery_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/delivery"
)

// The test vector of the Standard Webhooks libraries (their C# and Elixir
// tests, Svix's documentation; `new Webhook(secret).sign(...)` of the npm
// package prints the same): hookd's v1 signature is theirs, byte for byte.
func TestSignKnownVector(t *testing.T) {
	secret, err := delivery.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	s, err := delivery.NewSigner([][]byte{secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	s.Sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	want := map[string]string{
		"webhook-id":        "msg_p5jXN8AQM9LWM0D4loKWxJek",
		"webhook-timestamp": "1614265330",
		"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(h) != 3 {
		t.Errorf("Sign set %d headers, want 3: %v", len(h), h)
	}
}

// Every secret signs (a rotation), in the order given, then the key (v1a,
// which Go's ed25519 verifies over the same content here; Node's crypto
// does in sign_node_test.go).
func TestSignRotationAndKey(t *testing.T) {
	old, cur := randomSecret(t, 32), randomSecret(t, 64)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	all, err := delivery.NewSigner([][]byte{old, cur}, key)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1764979200, 999_000_000) // the fraction is dropped, not rounded
	body := []byte(`{"EVENT":"USER_CREATE","MODULE":"ISL_CP"}`)
	h := http.Header{}
	all.Sign(h, "0193a0b4-7c1e-7d2f-9a8b-0123456789ab", at, body)
	if ts := h.Get("webhook-timestamp"); ts != "1764979200" {
		t.Errorf("webhook-timestamp %q, want 1764979200", ts)
	}
	parts := strings.Split(h.Get("webhook-signature"), " ")
	if len(parts) != 3 {
		t.Fatalf("webhook-signature %q: want 3 signatures", h.Get("webhook-signature"))
	}
	for i, sec := range [][]byte{old, cur} {
		one, err := delivery.NewSigner([][]byte{sec}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h1 := http.Header{}
		one.Sign(h1, "0193a0b4-7c1e-7d2f-9a8b-0123456789ab", at, body)
		if parts[i] != h1.Get("webhook-signature") {
			t.Errorf("signature %d %q, want the one of secret %d alone, %q", i, parts[i], i, h1.Get("webhook-signature"))
		}
	}
	v1a, ok := strings.CutPrefix(parts[2], "v1a,")
	if !ok {
		t.Fatalf("third signature %q is not v1a", parts[2])
	}
	sig, err := base64.StdEncoding.DecodeString(v1a)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte("0193a0b4-7c1e-7d2f-9a8b-0123456789ab.1764979200."+string(body)), sig) {
		t.Error("v1a does not verify over id.timestamp.body")
	}
	pk := delivery.PublicKey(pub)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pk, "whpk_"))
	if !strings.HasPrefix(pk, "whpk_") || err != nil || !bytes.Equal(raw, pub) {
		t.Errorf("PublicKey = %q: want whpk_ + standard base64 of the 32 raw bytes", pk)
	}
	if got := all.PublicKey(); got != pk {
		t.Errorf("Signer.PublicKey = %q, want %q", got, pk)
	}
}

// A retry signs afresh: one value per header, the new timestamp. A nil
// Signer (no signing) sets nothing, and a key-only Signer signs v1a only.
func TestSignRetryNilAndKeyOnly(t *testing.T) {
	s, err := delivery.NewSigner([][]byte{randomSecret(t, 24)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	s.Sign(h, "id1", time.Unix(100, 0), []byte("{}"))
	first := h.Get("webhook-signature")
	s.Sign(h, "id1", time.Unix(160, 0), []byte("{}"))
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if n := len(h.Values(k)); n != 1 {
			t.Errorf("%s has %d values after a re-sign, want 1", k, n)
		}
	}
	if h.Get("webhook-timestamp") != "160" || h.Get("webhook-signature") == first {
		t.Errorf("re-sign kept the old timestamp or signature: %v", h)
	}
	if s.PublicKey() != "" {
		t.Errorf("PublicKey of a secrets-only signer = %q, want \"\"", s.PublicKey())
	}

	var none *delivery.Signer
	h = http.Header{}
	none.Sign(h, "id1", time.Unix(100, 0), []byte("{}"))
	if len(h) != 0 {
		t.Errorf("nil Signer set %v", h)
	}

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	k, err := delivery.NewSigner(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	h = http.Header{}
	k.Sign(h, "id1", time.Unix(100, 0), []byte("{}"))
	if sig := h.Get("webhook-signature"); !strings.HasPrefix(sig, "v1a,") || strings.Contains(sig, " ") {
		t.Errorf("key-only signature %q, want one v1a", sig)
	}
}

// NewSigner copies what it is given: the caller's buffers may be reused.
func TestNewSignerCopies(t *testing.T) {
	sec := randomSecret(t, 32)
	s, err := delivery.NewSigner([][]byte{sec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := http.Header{}, http.Header{}
	s.Sign(h1, "id", time.Unix(1, 0), nil)
	sec[0] ^= 0xff
	s.Sign(h2, "id", time.Unix(1, 0), nil)
	if h1.Get("webhook-signature") != h2.Get("webhook-signature") {
		t.Error("changing the caller's secret changed the signature")
	}
}

func TestNewSignerRefuses(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	for _, c := range []struct {
		name    string
		secrets [][]byte
		key     ed25519.PrivateKey
		want    string
	}{
		{"nothing", nil, nil, "needs at least one signing secret (signing_secrets) or a signing key (signing_key)"},
		{"short", [][]byte{randomSecret(t, 32), make([]byte, 23)}, nil, "signing_secrets[1]: signing secret decodes to 23 bytes: want 24 to 64"},
		{"long", [][]byte{make([]byte, 65)}, nil, "signing_secrets[0]: signing secret decodes to 65 bytes"},
		{"key", nil, key[:32], "signing key is 32 bytes: want an Ed25519 private key (64 bytes)"},
	} {
		_, err := delivery.NewSigner(c.secrets, c.key)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestParseSecret(t *testing.T) {
	b24 := bytes.Repeat([]byte{0xa5}, 24)
	b32 := bytes.Repeat([]byte{0x5a}, 32)
	std24 := base64.StdEncoding.EncodeToString(b24)
	std32 := base64.StdEncoding.EncodeToString(b32) // padded
	raw32 := base64.RawStdEncoding.EncodeToString(b32)
	for _, c := range []struct {
		in   string
		want []byte
	}{
		{"whsec_" + std24, b24},
		{std24, b24},                    // the prefix is optional
		{"whsec_" + std32 + "\n", b32},  // a file's trailing newline
		{"  whsec_" + raw32 + " ", b32}, // unpadded, as the libraries accept
		{"whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 64)), bytes.Repeat([]byte{1}, 64)},
	} {
		got, err := delivery.ParseSecret(c.in)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ParseSecret(%q) = %x, %v; want %x", c.in, got, err, c.want)
		}
	}
	secretText := "whsec_" + strings.ReplaceAll(strings.ReplaceAll(std32, "+", "-"), "/", "_") + "-"
	for _, c := range []struct{ in, want string }{
		{"", "signing secret is empty: want \"whsec_\" + base64 of 24 to 64 random bytes"},
		{"whsec_", "signing secret is empty"},
		{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)), "decodes to 23 bytes: want 24 to 64 random bytes"},
		{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)), "decodes to 65 bytes"},
		{"whsec_abc$defghijklmnopqrstuvwxyz0123456789", "not standard base64 (bad input at byte 3 of the base64, after any \"whsec_\" prefix)"},
		{secretText, "not standard base64"},          // URL-safe: the libraries refuse it
		{"v1,whsec_" + std32, "not standard base64"}, // a signature's prefix is not a secret's
		{"whsec_" + std32[:20] + "\n" + std32[20:], "a line break inside"},
	} {
		_, err := delivery.ParseSecret(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSecret(%q): error %v, want one containing %q", c.in, err, c.want)
			continue
		}
		if len(c.in) > 12 && strings.Contains(err.Error(), strings.TrimPrefix(c.in, "whsec_")[:8]) {
			t.Errorf("ParseSecret(%q): the error quotes the secret: %v", c.in, err)
		}
	}
}

func randomSecret(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// whsec writes a secret as the libraries take it.
func whsec(b []byte) string { return delivery.SecretPrefix + base64.StdEncoding.EncodeToString(b) }

var benchBody = []byte(`{"EVENT":"USER_CREATE","MODULE":"ISL_CP","EVENT_ID":"0193a0b4-7c1e-7d2f-9a8b-0123456789ab","TIMESTAMP":"1764979200","SERVER_ID":"node-1","DOMAIN_ID":"42","USERNAME":"alice@example.com","SESSIONID":"s-8f3a","reasonSoftwareType":"portal"}`)

func benchSign(b *testing.B, s *delivery.Signer) {
	h := http.Header{}
	at := time.Unix(1764979200, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for i := 0; b.Loop(); i++ {
		s.Sign(h, "0193a0b4-7c1e-7d2f-9a8b-"+strconv.Itoa(i&0xffff), at, benchBody)
	}
}

// BenchmarkSignHMAC is the per-delivery cost of a v1 signature (one
// secret) on a typical event body.
func BenchmarkSignHMAC(b *testing.B) {
	s, err := delivery.NewSigner([][]byte{randomSecret(b, 32)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

// BenchmarkSignHMACTwoSecrets is the cost during a rotation.
func BenchmarkSignHMACTwoSecrets(b *testing.B) {
	s, err := delivery.NewSigner([][]byte{randomSecret(b, 32), randomSecret(b, 32)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

// BenchmarkSignEd25519 is the cost of a v1a signature alone.
func BenchmarkSignEd25519(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, err := delivery.NewSigner(nil, key)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

// One Signer serves every attempt of its target at once (the pooled HMAC
// states must not be shared): concurrent signatures equal sequential ones.
func TestSignConcurrent(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, err := delivery.NewSigner([][]byte{randomSecret(t, 32), randomSecret(t, 48)}, key)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	want := make([]string, n)
	for i := range want {
		h := http.Header{}
		s.Sign(h, "id-"+strconv.Itoa(i), time.Unix(int64(i), 0), []byte(strings.Repeat("b", i*37)))
		want[i] = h.Get("webhook-signature")
	}
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for range 20 {
				h := http.Header{}
				s.Sign(h, "id-"+strconv.Itoa(i), time.Unix(int64(i), 0), []byte(strings.Repeat("b", i*37)))
				if got[i] != "" && got[i] != h.Get("webhook-signature") {
					got[i] = "differs between runs"
					return
				}
				got[i] = h.Get("webhook-signature")
			}
		})
	}
	wg.Wait()
	for i := range n {
		if got[i] != want[i] {
			t.Errorf("signature %d concurrently %q, sequentially %q", i, got[i], want[i])
		}
	}
}

// ParseSecret on anything: no panic, an accepted secret is 24 to 64 bytes
// and re-encodes to the input (less the prefix, padding and white space),
// and an error never quotes the input.
func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "", "whsec_a-b_", "whsec_" + strings.Repeat("A", 88) + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b, err := delivery.ParseSecret(in)
		if err != nil {
			if core := strings.TrimPrefix(strings.TrimSpace(in), "whsec_"); len(core) >= 12 && strings.Contains(err.Error(), core) {
				t.Fatalf("error quotes the secret: %v", err)
			}
			return
		}
		if len(b) < 24 || len(b) > 64 {
			t.Fatalf("accepted %d bytes", len(b))
		}
		// Re-encoded, it is the input but for the last character, whose
		// unused low bits neither Go's decoder nor the libraries' check.
		core := strings.TrimRight(strings.TrimPrefix(strings.TrimSpace(in), "whsec_"), "=")
		got := base64.RawStdEncoding.EncodeToString(b)
		if len(got) != len(core) || got[:len(got)-1] != core[:len(core)-1] {
			t.Fatalf("%q decoded to %x, which encodes to %q", in, b, got)
		}
	})
}

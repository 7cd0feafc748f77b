package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
)

// b64len is the length of n bytes in base64url without padding.
func b64len(n int) int { return (4*n + 2) / 3 }

// The longest webhook body hookd sends for an event it admitted
// (hook.NewEvent), as a formula:
//
//	{"jwt":"  b64(header) . b64(claims) . b64(signature)  "}
//
// The header is {"alg":"PS512","kid":"<43-character thumbprint>","typ":"JWT"},
// 79 bytes for every algorithm. In the claims every byte of a field's name
// or value is at most six ("\u0001" for "\x01", "\u003c" for "<"), each
// field adds four quotes, ":" and "," (one "," fewer than fields) inside
// the braces of "data"; MODULE, SERVERID and DOMAIN_ID come a second time,
// as the module, server_id and domain_id claims, so their bytes count
// twice; and maxFixedClaims bounds the rest: the claim names and their
// punctuation (86 bytes), event (at most 13), exp and iat (at most 19
// digits each) and jti (36).
const (
	headerBytes    = len(`{"alg":"PS512","kid":"`) + 43 + len(`","typ":"JWT"}`)
	maxFixedClaims = 256
	maxClaims      = 12*hook.MaxEventBytes + 6*hook.MaxEventFields + 1 + maxFixedClaims // 788,225 bytes, plus the configured claims
)

func maxWebhookBody(configuredClaims, signatureBytes int) int {
	return len(`{"jwt":"`) + b64len(headerBytes) + 1 + b64len(maxClaims+configuredClaims) + 1 + b64len(signatureBytes) + len(`"}`)
}

// largestTokenEvent is an event hookd admits whose token is as large as
// tokens get: the bytes hookd does not fix (EVENT_ID, TIMESTAMP, the
// names) all in MODULE, which the token carries twice, as "\x01", which
// JSON writes as six bytes.
func largestTokenEvent(t *testing.T) *hook.Event {
	t.Helper()
	fields := map[string]string{"EVENT": "USER_CREATE", "SERVERID": "\x01", "TIMESTAMP": "0", "MODULE": ""}
	fields["MODULE"] = strings.Repeat("\x01", hook.MaxEventBytes-hook.EventSize(fields)-len("EVENT_ID")-36)
	ev, err := hook.NewEvent(fields, time.Now(), "node-1")
	if err != nil {
		t.Fatalf("hook.NewEvent refused the largest event: %v", err)
	}
	if n := hook.EventSize(ev.Fields); n != hook.MaxEventBytes {
		t.Fatalf("event has %d bytes, want %d", n, hook.MaxEventBytes)
	}
	return ev
}

// webhook provisions hookd's JWT webhook as config.toml would:
//
//	[jwt_webhook]
//	url = "<the receiver>"
//	private_key = "<file>"
//	alg = "<alg>"
//	claims = { iss = "hookd" }
//	events.user_create = true
func webhook(t *testing.T, receiverURL, alg string, key crypto.Signer) *jwtwebhook.Webhook {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &jwtwebhook.Webhook{
		URL: receiverURL, PrivateKey: "key.pem", Alg: alg,
		Claims: jwtwebhook.Claims{"iss": "hookd"},
		Events: jwtwebhook.Events{UserCreate: true},
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	env := hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: dir, RequestTimeout: 30 * time.Second, UserAgent: "hookd/test"}
	if err := w.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func Test_largestToken(t *testing.T) {
	t.Parallel()
	rsa4096, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	configured := len(`,"iss":"hookd"`)
	// The largest signatures hookd makes for each key type `hookd keys
	// generate` offers.
	tests := []struct {
		alg       string
		key       crypto.Signer
		signature int // bytes
	}{
		{"PS512", rsa4096, 512}, // RS512 signatures are as long
		{"ES512", p521, 132},
		{"EdDSA", ed, 64},
	}
	if bound := maxWebhookBody(configured, 512); maxBodyBytes < bound+bound/2 {
		t.Errorf("maxBodyBytes = %d leaves too little margin over the largest body, %d bytes", maxBodyBytes, bound)
	}

	b := setup(t, "-jwks-refresh", "0") // the JWKS below is fetched on the first unknown kid
	hooks := make([]*jwtwebhook.Webhook, len(tests))
	jwks := []map[string]string{}
	for i, tt := range tests {
		hooks[i] = webhook(t, b.url, tt.alg, tt.key)
		for _, raw := range hooks[i].PublicJWKs() {
			var jwk map[string]string
			if err := json.Unmarshal(raw, &jwk); err != nil {
				t.Fatal(err)
			}
			jwks = append(jwks, jwk)
		}
	}
	b.jwks.set(jwks...)

	for i, tt := range tests {
		w := hooks[i]
		ev := largestTokenEvent(t)

		// The body hookd sends (jwtwebhook's Handle) is as the bound says.
		token, err := w.Token(ev, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]string{"jwt": token})
		bound := maxWebhookBody(configured, tt.signature)
		if len(body) > bound || len(body) < bound-bound/200 {
			t.Errorf("%s: largest body = %d bytes, want at most %d and within 0.5%% of it", tt.alg, len(body), bound)
		}
		t.Logf("%s: largest body %d bytes, bound %d, limit %d", tt.alg, len(body), bound, maxBodyBytes)

		// hookd posts it and the receiver verifies it.
		before := b.out.Len()
		res, err := w.Handle(context.Background(), ev)
		if err != nil || res.Status != http.StatusNoContent {
			t.Errorf("%s: delivery = %d %v (%q), want 204", tt.alg, res.Status, err, res.Reply)
			continue
		}
		var l struct {
			Alg    string
			Claims struct {
				JTI    string
				Module string
				Data   map[string]string
			}
		}
		if err := json.Unmarshal([]byte(b.out.From(before)), &l); err != nil {
			t.Fatalf("%s: printed line: %v", tt.alg, err)
		}
		if l.Alg != tt.alg || l.Claims.JTI != ev.ID || l.Claims.Module != ev.Module() || !maps.Equal(l.Claims.Data, ev.Fields) {
			t.Errorf("%s: printed alg %s, jti %s and not the event's fields; want %s, %s and the fields", tt.alg, l.Alg, l.Claims.JTI, tt.alg, ev.ID)
		}
	}
}

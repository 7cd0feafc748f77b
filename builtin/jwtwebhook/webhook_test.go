package jwtwebhook_test

import (
	hookrt "github.com/hookrt/hookd/runtime"

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
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/jwtsign"
)

func writePEM(t testing.TB, dir, name string, key crypto.Signer, mode os.FileMode) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
		t.Fatal(err)
	}
}

// parse loads a config document with the built-in registry.
func parse(t testing.TB, doc string) (*hookrt.Config, error) {
	t.Helper()
	return hookrt.ParseConfig([]byte(doc), ".")
}

func provisioned(t *testing.T, dir, section string) *jwtwebhook.Webhook {
	t.Helper()
	cfg, err := parse(t, section)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Modules[jwtwebhook.ID].(*jwtwebhook.Webhook)
	env := hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: dir, RequestTimeout: 5 * time.Second, UserAgent: "hookd/test"}
	if err := w.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

var event = &hook.Event{ID: "01a21c96-b83b-79df-b954-b6b05c9e8019", Fields: map[string]string{
	"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "SERVERID": "grid-1",
	"USERNAME": "ann", "EMAIL": "ann@example.com", "EVENT_ID": "01a21c96-b83b-79df-b954-b6b05c9e8019",
}}

func TestEveryKeyTypeAndAlgorithm(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name, alg, want string
		key             crypto.Signer
	}{
		{"rsa default", "", "RS256", rsaKey},
		{"rsa ps256", "PS256", "PS256", rsaKey},
		{"p256", "", "ES256", p256},
		{"p384", "", "ES384", p384},
		{"p521", "", "ES512", p521},
		{"ed25519", "", "EdDSA", ed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writePEM(t, dir, "k.pem", tc.key, 0o600)
			w := provisioned(t, dir, `[jwt_webhook]
url = "http://127.0.0.1:1/"
private_key = "k.pem"
alg = "`+tc.alg+`"
claims = '{"iss":"some_iss","rid":"456"}'
lifetime = "120s"
[jwt_webhook.events]
user_create = true
`)
			now := time.Unix(1_800_000_000, 0)
			tok, err := w.Token(event, now)
			if err != nil {
				t.Fatal(err)
			}
			// Verify through the published JWKS, as a receiver does.
			jwks := w.PublicJWKs()
			if len(jwks) != 1 {
				t.Fatalf("jwks: %s", jwks)
			}
			pub, kid, err := jwtsign.ParsePublicJWK(jwks[0])
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
				jwt.WithValidMethods([]string{tc.want}), jwt.WithTimeFunc(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Header["kid"] != kid || parsed.Header["typ"] != "JWT" || parsed.Header["alg"] != tc.want {
				t.Errorf("header %v; kid %s", parsed.Header, kid)
			}
			// And directly with the public key of the file.
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return tc.key.Public(), nil },
				jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
				t.Errorf("verify with the file's public key: %v", err)
			}
			want := map[string]any{
				"iss": "some_iss", "rid": "456", "iat": float64(now.Unix()), "exp": float64(now.Unix() + 120),
				"jti": event.ID, "event": "user_create", "module": "ISL_CP", "server_id": "grid-1", "domain_id": "3",
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			data, _ := claims["data"].(map[string]any)
			if data["USERNAME"] != "ann" || data["EMAIL"] != "ann@example.com" || len(data) != len(event.Fields) {
				t.Errorf("data claim %v", data)
			}
		})
	}
}

func TestConfigRules(t *testing.T) {
	base := "[jwt_webhook]\nurl = \"https://example.com/hook\"\nprivate_key = \"k.pem\"\n"
	events := "[jwt_webhook.events]\nuser_create = true\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"reserved claim", base + "claims = { jti = \"x\" }\n" + events, `claims: "jti" is set by hookd on every token and cannot be configured`},
		{"reserved claim in JSON", base + "claims = '{\"exp\": 1}'\n" + events, `claims: "exp" is set by hookd`},
		{"claims not an object", base + "claims = '[1,2]'\n" + events, "claims"},
		{"datetime claim", base + "claims = { at = 1979-05-27T07:32:00Z }\n" + events, "cannot be a JWT claim"},
		{"no url", "[jwt_webhook]\nprivate_key = \"k.pem\"\n" + events, "url: required"},
		{"relative url", "[jwt_webhook]\nurl = \"/hook\"\nprivate_key = \"k.pem\"\n" + events, "url: must be an absolute http:// or https:// URL"},
		{"ftp url", "[jwt_webhook]\nurl = \"ftp://x/\"\nprivate_key = \"k.pem\"\n" + events, "url: must be an absolute http:// or https:// URL"},
		{"no key", "[jwt_webhook]\nurl = \"https://x/\"\n" + events, "private_key: required"},
		{"short lifetime", base + "lifetime = \"1s\"\n" + events, "lifetime: must be between 10s and 24h0m0s"},
		{"unknown event", base + events + "user_rename = true\n", `unknown key "jwt_webhook.events.user_rename"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestAllEventsOff: a webhook with every event switched off is off, as in
// the proxy: the section is accepted.
func TestAllEventsOff(t *testing.T) {
	if _, err := parse(t, "[jwt_webhook]\nurl = \"https://example.com/hook\"\nprivate_key = \"k.pem\"\n"); err != nil {
		t.Errorf("no event on: %v; want the section accepted as off", err)
	}
}

func TestProvisionRefusals(t *testing.T) {
	dir := t.TempDir()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	writePEM(t, dir, "loose.pem", ed, 0o644)
	writePEM(t, dir, "good.pem", ed, 0o600)
	os.WriteFile(filepath.Join(dir, "hmac.key"), []byte("c2VjcmV0LXNoYXJlZC1obWFjLWtleQ=="), 0o600)
	for _, tc := range []struct{ name, key, alg, want string }{
		{"loose permissions", "loose.pem", "", "readable by group or others"},
		{"hmac secret", "hmac.key", "", "symmetric (HMAC) secrets are not supported"},
		{"alg none", "good.pem", "none", "none"},
		{"alg HS256", "good.pem", "HS256", "symmetric"},
		{"missing file", "nope.pem", "", "nope.pem"},
		{"escaping name", "../good.pem", "", ".."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, "[jwt_webhook]\nurl = \"https://x/\"\nprivate_key = \""+tc.key+"\"\nalg = \""+tc.alg+"\"\n[jwt_webhook.events]\nuser_create = true\n")
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.Modules[jwtwebhook.ID].(*jwtwebhook.Webhook)
			err = w.Provision(context.Background(), hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: dir, RequestTimeout: time.Second})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestHandleSignsEachAttempt: each attempt carries a fresh token (new iat
// and exp) with the same jti, as JSON {"jwt": …}; only enabled events match.
func TestHandleSignsEachAttempt(t *testing.T) {
	dir := t.TempDir()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	writePEM(t, dir, "k.pem", ed, 0o600)
	var (
		mu     sync.Mutex
		tokens []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil || len(body) != 1 {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		tokens = append(tokens, body["jwt"])
		mu.Unlock()
		w.WriteHeader(500)
	}))
	defer srv.Close()
	w := provisioned(t, dir, "[jwt_webhook]\nurl = \""+srv.URL+"\"\nprivate_key = \"k.pem\"\n[jwt_webhook.events]\nuser_create = true\ndomain_delete = true\n")
	clock := time.Unix(1_800_000_000, 0)
	w.Now = func() time.Time { return clock }
	targets := w.Targets()
	if len(targets) != 1 {
		t.Fatal(targets)
	}
	tg := targets[0]
	for name, want := range map[string]bool{"USER_CREATE": true, "DOMAIN_DELETE": true, "USER_DELETE": false, "NEWSESSION": false} {
		if got := tg.Wants(&hook.Event{Fields: map[string]string{"EVENT": name}}); got != want {
			t.Errorf("Wants(%s) = %v", name, got)
		}
	}
	for i := 0; i < 2; i++ {
		res, err := tg.Handler.Handle(context.Background(), event)
		if err == nil || res.Status != 500 {
			t.Fatalf("attempt %d: %+v %v; want a failed attempt with status 500", i, res, err)
		}
		clock = clock.Add(time.Hour) // the retry comes an hour later
	}
	if len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Fatalf("want two different tokens, got %d", len(tokens))
	}
	var iats []float64
	for _, tok := range tokens {
		c := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return ed.Public(), nil },
			jwt.WithoutClaimsValidation()); err != nil {
			t.Fatal(err)
		}
		if c["jti"] != event.ID {
			t.Errorf("jti %v", c["jti"])
		}
		iats = append(iats, c["iat"].(float64))
	}
	if iats[1] != iats[0]+3600 {
		t.Errorf("second attempt iat %v not after first %v", iats[1], iats[0])
	}
}

package jwtsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestSignVerify loads every key type from every PEM form hookd accepts,
// signs, and checks the token twice: against the generated public key, and
// through the published JWKS, as a receiver would.
func TestSignVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pem     []byte
		pub     crypto.PublicKey
		alg     string // given to LoadKey
		wantAlg string
	}{
		{"rsa/pkcs8/default", pkcs8PEM(rsaKey()), rsaKey().Public(), "", "RS256"},
		{"rsa/pkcs1/default", pkcs1PEM(rsaKey()), rsaKey().Public(), "", "RS256"},
		{"rsa/pkcs8/RS256", pkcs8PEM(rsaKey()), rsaKey().Public(), "RS256", "RS256"},
		{"rsa/pkcs1/RS384", pkcs1PEM(rsaKey()), rsaKey().Public(), "RS384", "RS384"},
		{"rsa/pkcs8/RS512", pkcs8PEM(rsaKey()), rsaKey().Public(), "RS512", "RS512"},
		{"rsa/pkcs1/PS256", pkcs1PEM(rsaKey()), rsaKey().Public(), "PS256", "PS256"},
		{"rsa/pkcs8/PS384", pkcs8PEM(rsaKey()), rsaKey().Public(), "PS384", "PS384"},
		{"rsa/pkcs8/PS512", pkcs8PEM(rsaKey()), rsaKey().Public(), "PS512", "PS512"},
		{"p256/pkcs8/default", pkcs8PEM(p256Key()), p256Key().Public(), "", "ES256"},
		{"p256/sec1/ES256", sec1PEM(p256Key()), p256Key().Public(), "ES256", "ES256"},
		{"p256/sec1+params", sec1ParamsPEM(p256Key()), p256Key().Public(), "", "ES256"},
		{"p384/pkcs8/default", pkcs8PEM(p384Key()), p384Key().Public(), "", "ES384"},
		{"p384/sec1/ES384", sec1PEM(p384Key()), p384Key().Public(), "ES384", "ES384"},
		{"p521/pkcs8/default", pkcs8PEM(p521Key()), p521Key().Public(), "", "ES512"},
		{"p521/sec1+params/ES512", sec1ParamsPEM(p521Key()), p521Key().Public(), "ES512", "ES512"},
		{"ed25519/pkcs8/default", pkcs8PEM(edKey()), edKey().Public(), "", "EdDSA"},
		{"ed25519/pkcs8/EdDSA", pkcs8PEM(edKey()), edKey().Public(), "EdDSA", "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			key, err := jwtsign.LoadKey(dir, writeKey(t, dir, "k.pem", tt.pem, 0o600), tt.alg)
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			if key.Alg() != tt.wantAlg {
				t.Errorf("Alg() = %q, want %q", key.Alg(), tt.wantAlg)
			}
			if want := independentKID(t, tt.pub); key.KID() != want {
				t.Errorf("KID() = %q, want %q", key.KID(), want)
			}

			claims := map[string]any{"iss": "hookd", "jti": "ev-1", "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()}
			token, err := key.Sign(claims)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			parser := jwt.NewParser(jwt.WithValidMethods([]string{tt.wantAlg}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())

			// 1. With the public key the test generated.
			got, err := parser.Parse(token, func(*jwt.Token) (any, error) { return tt.pub, nil })
			if err != nil {
				t.Fatalf("verify with public key: %v", err)
			}
			checkToken(t, got, key)

			// 2. Through the JWKS, holding another key too, selected by kid.
			other, err := jwtsign.NewKey(edKey(), "")
			if err != nil {
				t.Fatal(err)
			}
			set := keysByKID(t, jwtsign.JWKS(other, key, other))
			wantKeys := 2
			if other.KID() == key.KID() { // the Ed25519 cases load edKey itself
				wantKeys = 1
			}
			if len(set) != wantKeys {
				t.Fatalf("JWKS has %d keys, want %d", len(set), wantKeys)
			}
			got, err = parser.Parse(token, func(tok *jwt.Token) (any, error) {
				kid, _ := tok.Header["kid"].(string)
				pub, ok := set[kid]
				if !ok {
					return nil, fmt.Errorf("kid %q not in JWKS", kid)
				}
				return pub, nil
			})
			if err != nil {
				t.Fatalf("verify through JWKS: %v", err)
			}
			checkToken(t, got, key)
			if got.Claims.(jwt.MapClaims)["jti"] != "ev-1" {
				t.Errorf("claims = %v, want jti ev-1", got.Claims)
			}
		})
	}
}

func checkToken(t *testing.T, tok *jwt.Token, key *jwtsign.Key) {
	t.Helper()
	want := map[string]any{"alg": key.Alg(), "typ": "JWT", "kid": key.KID()}
	for name, v := range want {
		if tok.Header[name] != v {
			t.Errorf("header %s = %v, want %v", name, tok.Header[name], v)
		}
	}
	if len(tok.Header) != len(want) {
		t.Errorf("header = %v, want exactly %v", tok.Header, want)
	}
}

// keysByKID parses a JWKS with ParsePublicJWK, as a receiver would.
func keysByKID(t *testing.T, jwks []byte) map[string]crypto.PublicKey {
	t.Helper()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS %s: %v", jwks, err)
	}
	out := make(map[string]crypto.PublicKey)
	for _, raw := range set.Keys {
		pub, kid, err := jwtsign.ParsePublicJWK(raw)
		if err != nil {
			t.Fatalf("ParsePublicJWK(%s): %v", raw, err)
		}
		if _, dup := out[kid]; dup {
			t.Fatalf("JWKS repeats kid %q: %s", kid, jwks)
		}
		out[kid] = pub
	}
	return out
}

// independentKID computes the RFC 7638 thumbprint the long way, through
// encoding/json's sorted map keys, to cross-check the package's
// hand-written canonical form.
func independentKID(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	var m map[string]string
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		m = map[string]string{"kty": "RSA", "n": enc(pub.N.Bytes()), "e": enc(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		point, err := pub.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		m = map[string]string{"kty": "EC", "crv": pub.Curve.Params().Name, "x": enc(point[1 : 1+size]), "y": enc(point[1+size:])}
	case ed25519.PublicKey:
		m = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": enc(pub)}
	default:
		t.Fatalf("unexpected key %T", pub)
	}
	canon, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	return enc(sum[:])
}

// TestSignConcurrent shares one Key between goroutines; run with -race.
func TestSignConcurrent(t *testing.T) {
	t.Parallel()
	for _, signer := range []crypto.Signer{edKey(), p256Key(), rsaKey()} {
		key, err := jwtsign.NewKey(signer, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Run(key.Alg(), func(t *testing.T) {
			t.Parallel()
			const goroutines, each = 8, 10
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*each)
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						token, err := key.Sign(map[string]any{"jti": fmt.Sprint(g, "-", i)})
						if err == nil {
							_, err = jwt.Parse(token, func(*jwt.Token) (any, error) { return key.Public(), nil }, jwt.WithValidMethods([]string{key.Alg()}))
						}
						if err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestSignNilClaims signs {} rather than the JSON null golang-jwt would
// otherwise encode for a nil map.
func TestSignNilClaims(t *testing.T) {
	t.Parallel()
	key, err := jwtsign.NewKey(edKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	token, err := key.Sign(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("ParseUnverified(%q): %v", token, err)
	}
	if c := tok.Claims.(jwt.MapClaims); len(c) != 0 {
		t.Errorf("claims = %v, want {}", c)
	}
}

// TestSignUnmarshalable reports claims encoding/json cannot encode.
func TestSignUnmarshalable(t *testing.T) {
	t.Parallel()
	key, err := jwtsign.NewKey(edKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := key.Sign(map[string]any{"bad": make(chan int)}); err == nil {
		t.Fatal("Sign with a channel claim: want an error")
	}
}

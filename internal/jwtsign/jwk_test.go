package jwtsign_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// rfc7638Key is the RSA key of RFC 7638 §3.1.
const rfc7638Key = `{
  "kty": "RSA",
  "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
  "e": "AQAB",
  "alg": "RS256",
  "kid": "2011-04-29"
}`

// TestThumbprintRFC7638 checks the test vector of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	pub, kid, err := jwtsign.ParsePublicJWK([]byte(rfc7638Key))
	if err != nil {
		t.Fatal(err)
	}
	if kid != "2011-04-29" {
		t.Errorf("kid = %q, want the JWK's own kid member", kid)
	}
	got, err := jwtsign.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Thumbprint = %q, want %q", got, want)
	}

	// Without a kid member, ParsePublicJWK falls back to the thumbprint.
	var m map[string]any
	if err := json.Unmarshal([]byte(rfc7638Key), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "kid")
	_, kid, err = jwtsign.ParsePublicJWK(must(json.Marshal(m)))
	if err != nil {
		t.Fatal(err)
	}
	if kid != want {
		t.Errorf("kid without a kid member = %q, want %q", kid, want)
	}
}

// TestPublicJWKRoundTrip checks that ParsePublicJWK inverts PublicJWK for
// every key type, and that the JWK holds exactly the public members.
func TestPublicJWKRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		signer  crypto.Signer
		alg     string
		members string // sorted, comma-separated
	}{
		{rsaKey(), "PS256", "alg,e,kid,kty,n,use"},
		{p256Key(), "", "alg,crv,kid,kty,use,x,y"},
		{p384Key(), "", "alg,crv,kid,kty,use,x,y"},
		{p521Key(), "", "alg,crv,kid,kty,use,x,y"},
		{edKey(), "", "alg,crv,kid,kty,use,x"},
	}
	for _, tt := range tests {
		key, err := jwtsign.NewKey(tt.signer, tt.alg)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(key.Alg(), func(t *testing.T) {
			t.Parallel()
			raw := key.PublicJWK()
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("PublicJWK %s: %v", raw, err)
			}
			if got := strings.Join(slices.Sorted(maps.Keys(m)), ","); got != tt.members {
				t.Errorf("members = %s, want %s (%s)", got, tt.members, raw)
			}
			if m["use"] != "sig" || m["alg"] != key.Alg() || m["kid"] != key.KID() {
				t.Errorf("PublicJWK = %s, want use sig, alg %s, kid %s", raw, key.Alg(), key.KID())
			}
			pub, kid, err := jwtsign.ParsePublicJWK(raw)
			if err != nil {
				t.Fatal(err)
			}
			if kid != key.KID() {
				t.Errorf("kid = %q, want %q", kid, key.KID())
			}
			if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Errorf("ParsePublicJWK(PublicJWK()) is another key")
			}
			raw[0] = 'X' // PublicJWK returns a copy
			if bytes.Equal(key.PublicJWK(), raw) {
				t.Error("PublicJWK shares its buffer with the Key")
			}
		})
	}
}

// TestJWKS checks deduplication by kid, order, nil keys and the empty set.
func TestJWKS(t *testing.T) {
	t.Parallel()
	ed := must(jwtsign.NewKey(edKey(), ""))
	ec := must(jwtsign.NewKey(p256Key(), ""))
	tests := []struct {
		name string
		keys []*jwtsign.Key
		want []string // kids in order
	}{
		{"empty", nil, nil},
		{"one", []*jwtsign.Key{ed}, []string{ed.KID()}},
		{"order kept", []*jwtsign.Key{ec, ed}, []string{ec.KID(), ed.KID()}},
		{"dedup", []*jwtsign.Key{ed, ec, ed, must(jwtsign.NewKey(edKey(), ""))}, []string{ed.KID(), ec.KID()}},
		{"nil skipped", []*jwtsign.Key{nil, ed, nil}, []string{ed.KID()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := jwtsign.JWKS(tt.keys...)
			var set struct {
				Keys []struct {
					Kid string `json:"kid"`
				} `json:"keys"`
			}
			if err := json.Unmarshal(raw, &set); err != nil {
				t.Fatalf("JWKS %s: %v", raw, err)
			}
			if set.Keys == nil {
				t.Fatalf("JWKS %s: want a \"keys\" array", raw)
			}
			var got []string
			for _, k := range set.Keys {
				got = append(got, k.Kid)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("kids = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParsePublicJWKRefusals checks each refusal names the problem.
func TestParsePublicJWKRefusals(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	edX := enc(edKey().Public().(ed25519.PublicKey))
	small := must(rsa.GenerateKey(rand.Reader, 1024))
	p256 := must(jwtsign.NewKey(p256Key(), ""))
	var p256JWK map[string]string
	if err := json.Unmarshal(p256.PublicJWK(), &p256JWK); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		jwk  string
		want string
		is   error
	}{
		{"not JSON", `{`, "jwk is not a JSON object", jwtsign.ErrUnsupportedKey},
		{"no kty", `{"x":"` + edX + `"}`, "jwk has no kty", jwtsign.ErrUnsupportedKey},
		{"oct", `{"kty":"oct","k":"c2VjcmV0"}`, `jwk kty "oct" is a symmetric (HMAC) key`, jwtsign.ErrUnsupportedKey},
		{"private d", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `","d":"AAAA"}`, `jwk has the private member "d"; only public keys are accepted`, jwtsign.ErrUnsupportedKey},
		{"use enc", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `","use":"enc"}`, `jwk use is "enc"; want "sig"`, jwtsign.ErrUnsupportedKey},
		{"alg mismatch", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `","alg":"ES256"}`, "alg ES256 does not fit an Ed25519 key; use EdDSA", jwtsign.ErrUnsupportedAlg},
		{"alg HS256", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `","alg":"HS256"}`, "alg HS256 is symmetric", jwtsign.ErrUnsupportedAlg},
		{"X25519", `{"kty":"OKP","crv":"X25519","x":"` + edX + `"}`, `jwk OKP curve "X25519" is not supported; want Ed25519`, jwtsign.ErrUnsupportedKey},
		{"Ed25519 short", `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`, `jwk member "x" is 3 bytes; want 32`, jwtsign.ErrUnsupportedKey},
		{"padded base64", `{"kty":"OKP","crv":"Ed25519","x":"` + edX + `="}`, `jwk member "x" is not unpadded base64url`, jwtsign.ErrUnsupportedKey},
		{"missing x", `{"kty":"OKP","crv":"Ed25519"}`, `jwk member "x" is missing`, jwtsign.ErrUnsupportedKey},
		{"secp256k1", `{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}`, `jwk EC curve "secp256k1" is not supported`, jwtsign.ErrUnsupportedKey},
		{"EC off curve", `{"kty":"EC","crv":"P-256","x":"` + p256JWK["x"] + `","y":"` + p256JWK["x"] + `"}`, "jwk EC point is invalid", jwtsign.ErrUnsupportedKey},
		{"EC short y", `{"kty":"EC","crv":"P-256","x":"` + p256JWK["x"] + `","y":"AAAA"}`, `jwk member "y" is 3 bytes; want 32`, jwtsign.ErrUnsupportedKey},
		{"RSA 1024", `{"kty":"RSA","n":"` + enc(small.N.Bytes()) + `","e":"AQAB"}`, "jwk RSA key is 1024 bits; at least 2048 bits are required", jwtsign.ErrUnsupportedKey},
		{"RSA e even", `{"kty":"RSA","n":"` + enc(rsaKey().N.Bytes()) + `","e":"AQAA"}`, "jwk RSA exponent e is out of range", jwtsign.ErrUnsupportedKey},
		{"RSA e huge", `{"kty":"RSA","n":"` + enc(rsaKey().N.Bytes()) + `","e":"AQAAAAAB"}`, "jwk RSA exponent e is out of range", jwtsign.ErrUnsupportedKey},
		{"unknown kty", `{"kty":"DSA"}`, `jwk kty "DSA" is not supported; want RSA, EC or OKP`, jwtsign.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub, _, err := jwtsign.ParsePublicJWK([]byte(tt.jwk))
			if err == nil {
				t.Fatalf("ParsePublicJWK = %T, want an error", pub)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error = %q, want errors.Is(err, %v)", err, tt.is)
			}
		})
	}
}

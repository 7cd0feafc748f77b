package jwtsign_test

import (
	"crypto"
	"encoding/json"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestSignIsGolangJWTs checks that Sign and SignJSON give, byte for byte,
// the token golang-jwt's own Token.SignedString gives (which is what Sign
// called before SignJSON existed), for Ed25519 whose signatures are
// deterministic; and that every algorithm's token verifies.
func TestSignIsGolangJWTs(t *testing.T) {
	t.Parallel()
	claims := webhookClaims()
	for _, tc := range []struct {
		alg    string
		signer crypto.Signer
	}{{"EdDSA", edKey()}, {"ES256", p256Key()}, {"ES512", p521Key()}, {"PS256", rsaKey()}} {
		key := must(jwtsign.NewKey(tc.signer, tc.alg))
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(tc.alg), jwt.MapClaims(claims))
		tok.Header["kid"] = key.KID()
		want := must(tok.SignedString(tc.signer))
		got := must(key.Sign(claims))
		viaJSON := must(key.SignJSON(must(json.Marshal(claims))))
		if tc.alg == "EdDSA" && (got != want || viaJSON != want) {
			t.Errorf("EdDSA:\nSign     %s\nSignJSON %s\nwant     %s", got, viaJSON, want)
		}
		for _, s := range []string{got, viaJSON} {
			if _, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return tc.signer.Public(), nil },
				jwt.WithValidMethods([]string{tc.alg}), jwt.WithoutClaimsValidation()); err != nil {
				t.Errorf("%s: %v", tc.alg, err)
			}
		}
	}
	if got, want := must(must(jwtsign.NewKey(edKey(), "")).Sign(nil)), ""; got == want {
		t.Error("nil claims: empty token")
	}
}

// TestSignJSONAllocs bounds SignJSON's allocations for an Ed25519 key: the
// token's buffer and the token (the signature stays on the stack).
// Sign through golang-jwt's Token took 73, and golang-jwt's EdDSA method
// alone 5.
func TestSignJSONAllocs(t *testing.T) {
	key := must(jwtsign.NewKey(edKey(), ""))
	payload := must(json.Marshal(webhookClaims()))
	n := testing.AllocsPerRun(100, func() {
		if _, err := key.SignJSON(payload); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 {
		t.Errorf("SignJSON: %.0f allocations, want at most 3", n)
	}
}

// BenchmarkSignJSON is BenchmarkSign/EdDSA with the claims already encoded.
func BenchmarkSignJSON(b *testing.B) {
	key := must(jwtsign.NewKey(edKey(), ""))
	payload := must(json.Marshal(webhookClaims()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := key.SignJSON(payload); err != nil {
			b.Fatal(err)
		}
	}
}

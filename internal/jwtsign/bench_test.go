package jwtsign_test

import (
	"crypto"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// webhookClaims is shaped like a USER_CREATE webhook's claims: about 500
// bytes of JSON.
func webhookClaims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss":       "https://proxy.example.com",
		"rid":       "cp-eu-1",
		"iat":       now,
		"exp":       now + 300,
		"jti":       "01J9Z3M6R8X4K2T7V5N1B0QWEA",
		"event":     "USER_CREATE",
		"module":    "ISL_CP",
		"server_id": "srv-7f3a9c",
		"domain_id": "acme-corp",
		"data": map[string]any{
			"TIMESTAMP":  now,
			"MODULE":     "ISL_CP",
			"EVENT":      "USER_CREATE",
			"SERVERID":   "srv-7f3a9c",
			"DOMAIN_ID":  "acme-corp",
			"CPUSER_ID":  "48211",
			"USERNAME":   "jane.doe",
			"EMAIL":      "jane.doe@acme.example.com",
			"FULL_NAME":  "Jane Doe",
			"EVENT_ID":   "01J9Z3M6R8X4K2T7V5N1B0QWEA",
			"GROUPS":     "support,sales",
			"LANGUAGE":   "en",
			"CREATED_BY": "admin@acme.example.com",
		},
	}
}

func TestWebhookClaimsSize(t *testing.T) {
	t.Parallel()
	n := len(must(json.Marshal(webhookClaims())))
	if n < 450 || n > 600 {
		t.Errorf("benchmark claims are %d bytes, want about 500", n)
	}
}

// BenchmarkSign measures one webhook token per algorithm. The signature
// dominates for RSA; for Ed25519 and ECDSA the JSON encoding is a large
// share.
func BenchmarkSign(b *testing.B) {
	benches := []struct {
		alg    string
		signer crypto.Signer
	}{
		{"RS256", rsaKey()},
		{"PS256", rsaKey()},
		{"ES256", p256Key()},
		{"ES384", p384Key()},
		{"ES512", p521Key()},
		{"EdDSA", edKey()},
	}
	claims := webhookClaims()
	for _, bb := range benches {
		key, err := jwtsign.NewKey(bb.signer, bb.alg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bb.alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := key.Sign(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

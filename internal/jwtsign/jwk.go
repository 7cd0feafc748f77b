package jwtsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
)

// b64 is the JOSE encoding: base64url without padding (RFC 7515 §2).
var b64 = base64.RawURLEncoding

// jwk is a public JWK as hookd writes it; member order is the order
// encoding/json writes them, which keeps the JWKS byte-for-byte stable.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// jwkOf returns the key members of pub (kty, crv, n, e, x, y), with EC
// coordinates left-padded to the curve size as RFC 7518 §6.2.1.2 requires:
// without the padding, one key in 256 would get a different thumbprint
// from other implementations.
func jwkOf(pub crypto.PublicKey) (jwk, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return jwk{Kty: "RSA", N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		if _, ok := curveAlg(pub.Curve); !ok {
			break
		}
		point, err := pub.Bytes() // 0x04 || X || Y, each padded to the curve size
		if err != nil {
			return jwk{}, wrapf(ErrUnsupportedKey, err, "encode EC public key")
		}
		size := (len(point) - 1) / 2
		return jwk{Kty: "EC", Crv: curveName(pub.Curve), X: b64.EncodeToString(point[1 : 1+size]), Y: b64.EncodeToString(point[1+size:])}, nil
	case ed25519.PublicKey:
		return jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(pub)}, nil
	}
	_, desc := algsFor(pub)
	return jwk{}, errorf(ErrUnsupportedKey, "%s has no JWK form here; %s", desc, wantPrivate)
}

// thumbprint is RFC 7638 §3: SHA-256 over the required members in
// lexicographic order, without whitespace. The values are base64url or
// curve names, which never need JSON escaping, so plain concatenation is
// the canonical form.
func (j jwk) thumbprint() string {
	var canon string
	switch j.Kty {
	case "RSA":
		canon = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		canon = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		canon = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(canon))
	return b64.EncodeToString(sum[:])
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of an
// RSA, EC (P-256/384/521) or Ed25519 public key: the kid hookd puts in
// every token header.
//
//	kid, err := jwtsign.Thumbprint(signer.Public())
//
// # Notes
//
//   - Equal keys give equal thumbprints whatever file format they came
//     from, so a kid identifies a key, not a file.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := jwkOf(pub)
	if err != nil {
		return "", err
	}
	return j.thumbprint(), nil
}

// JWKS returns the JSON Web Key Set that hookd serves at
// /.well-known/jwks.json: {"keys":[…]} with each key's [Key.PublicJWK].
//
//	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
//		w.Header().Set("Content-Type", "application/json")
//		w.Write(jwks) // computed once: jwtsign.JWKS(newKey, oldKey)
//	})
//
// # Notes
//
//   - Pass the signing key and the keys being retired: during a rotation
//     receivers still need the old key for tokens already in flight.
//   - Keys with the same kid appear once (the first wins) and nil keys are
//     skipped, so callers can pass "current, previous" without checking
//     whether they differ. The order is kept.
//   - No keys give {"keys":[]}, a valid, empty set.
func JWKS(keys ...*Key) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k == nil || seen[k.kid] {
			continue
		}
		if len(seen) > 0 {
			buf.WriteByte(',')
		}
		seen[k.kid] = true
		buf.Write(k.jwk)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// marshalJWK renders the public JWK of a key once, at construction.
func marshalJWK(j jwk, kid, alg string) []byte {
	j.Kid, j.Use, j.Alg = kid, "sig", alg
	out, err := json.Marshal(j)
	if err != nil {
		panic("jwtsign: marshal JWK: " + err.Error()) // only strings: cannot fail
	}
	return out
}

package jwtsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// SignJSON returns a compact JWS of payload, a JSON object of claims the
// caller encoded itself, signed with the Key, with the header of [Key.Sign].
// It is Sign without the map: a caller that signs a token per delivery
// (the JWT webhook) writes its claims into a reused buffer instead of
// building a map[string]any that golang-jwt marshals with reflection.
//
//	token, err := key.SignJSON([]byte(`{"iss":"hookd","iat":1700000000}`))
//
// # Notes
//
//   - payload is not checked: it must be a JSON object, and only the
//     caller knows what is in it. It is only read, and may be reused once
//     SignJSON returns.
//   - The token is the one Sign gives for the claims payload encodes, byte
//     for byte, when payload is what encoding/json makes of them (sorted
//     names, HTML characters escaped).
//   - Safe for concurrent use. An error means the system's random source
//     failed (Ed25519 signs without one).
func (k *Key) SignJSON(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	n := len(k.head) + 1 + enc.EncodedLen(len(payload))
	b := make([]byte, n, n+1+enc.EncodedLen(k.sigLen))
	copy(b, k.head)
	b[len(k.head)] = '.'
	enc.Encode(b[len(k.head)+1:], payload)
	var sig []byte
	if ed, ok := k.signer.(ed25519.PrivateKey); ok {
		// What golang-jwt's EdDSA method does (ed25519 signatures are
		// deterministic: the same bytes), without its copies of the
		// signing string and of the public key it checks the type of.
		sig = ed25519.Sign(ed, b)
	} else {
		var err error
		if sig, err = k.method.Sign(string(b), k.signer); err != nil {
			return "", fmt.Errorf("sign %s token: %w", k.alg, err)
		}
	}
	b = append(b, '.')
	return string(enc.AppendEncode(b, sig)), nil
}

// header returns the first segment of every token of a key: the header
// {"alg","kid","typ"} as golang-jwt encodes it, base64url.
func header(alg, kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"}) // cannot fail
	return base64.RawURLEncoding.EncodeToString(h)
}

// sigLen is the length of a signature by the private key of pub, to size
// a token's buffer once; 0 for a key whose size is not known, which only
// costs a second allocation.
func sigLen(pub crypto.PublicKey) int {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return pub.Size()
	case *ecdsa.PublicKey:
		return 2 * ((pub.Curve.Params().BitSize + 7) / 8)
	case ed25519.PublicKey:
		return ed25519.SignatureSize
	}
	return 0
}

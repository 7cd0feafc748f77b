package jwtsign

import (
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a private signing key ready to sign JWTs: the key, its algorithm,
// its kid and its public JWK, all fixed when the Key is made.
//
//	key, err := jwtsign.LoadKey(dir, "webhook.pem", "")
//	token, err := key.Sign(claims)
//	logger.Info("jwt webhook ready", "key", key) // key="{alg=EdDSA kid=…}"
//
// # Notes
//
//   - Make Keys with [LoadKey] or [NewKey]; the zero Key cannot sign.
//   - A Key is immutable: its methods are safe for concurrent use.
//   - Printing or logging a Key, with any fmt verb or through slog, shows
//     only its alg and kid. The private key never leaves the Key except
//     through [Key.Sign]'s signatures, which is what lets hookd offer WASM
//     plugins signing "by key name" without handing them key bytes.
type Key struct {
	signer crypto.Signer     // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	pub    crypto.PublicKey  // signer.Public(), kept to avoid the call
	method jwt.SigningMethod // resolved once: the registry lookup is locked
	alg    string
	kid    string
	jwk    []byte // the public JWK, rendered once
	head   string // the tokens' first segment, encoded once (SignJSON)
	sigLen int    // the length of a signature, to size a token's buffer
}

// NewKey makes a Key from a private key already in memory, for alg, which
// "" sets to the key's default (RS256 for RSA, ES256/384/512 by curve,
// EdDSA for Ed25519).
//
//	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
//	key, err := jwtsign.NewKey(priv, "") // ES256
//
// # Notes
//
//   - signer must be an *rsa.PrivateKey of at least [MinRSABits] bits, an
//     *ecdsa.PrivateKey on P-256, P-384 or P-521, or an ed25519.PrivateKey:
//     golang-jwt signs with nothing else.
//   - An RSA key is validated and its precomputed values completed, which
//     writes to it: call NewKey before sharing the key with other
//     goroutines.
//   - alg "none" and HS256/384/512 are refused by name; an alg that does not
//     fit the key is refused with the list that does. Errors wrap
//     [ErrUnsupportedKey] or [ErrUnsupportedAlg].
func NewKey(signer crypto.Signer, alg string) (*Key, error) {
	if signer == nil {
		return nil, errorf(ErrUnsupportedKey, "no private key given; %s", wantPrivate)
	}
	if _, err := checkPrivate(signer); err != nil {
		return nil, err
	}
	if rk, ok := signer.(*rsa.PrivateKey); ok {
		if err := rk.Validate(); err != nil {
			return nil, wrapf(ErrUnsupportedKey, err, "RSA key is invalid")
		}
		rk.Precompute()
	}
	pub := signer.Public()
	method, err := methodFor(pub, alg)
	if err != nil {
		return nil, err
	}
	j, err := jwkOf(pub)
	if err != nil {
		return nil, err
	}
	kid := j.thumbprint()
	return &Key{
		signer: signer,
		pub:    pub,
		method: method,
		alg:    method.Alg(),
		kid:    kid,
		jwk:    marshalJWK(j, kid, method.Alg()),
		head:   header(method.Alg(), kid),
		sigLen: sigLen(pub),
	}, nil
}

// Alg returns the JWS algorithm the Key signs with, e.g. "ES256".
func (k *Key) Alg() string { return k.alg }

// KID returns the key ID put in every token header: the RFC 7638 JWK
// thumbprint of the public key, base64url without padding.
func (k *Key) KID() string { return k.kid }

// Public returns the public half of the key, for verifying its tokens.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// PublicJWK returns the public key as a JWK with kty, kid, use "sig", alg
// and the key members, e.g.
//
//	{"kty":"OKP","kid":"…","use":"sig","alg":"EdDSA","crv":"Ed25519","x":"…"}
//
// The result is a fresh copy the caller may keep or modify.
func (k *Key) PublicJWK() json.RawMessage { return slices.Clone(k.jwk) }

// Sign returns a compact JWS of claims signed with the Key, with the header
// {"alg": k.Alg(), "kid": k.KID(), "typ": "JWT"}.
//
//	token, err := key.Sign(map[string]any{"iss": "hookd", "iat": now, "exp": now + 300, "jti": id})
//
// # Notes
//
//   - Sign adds no claims: iat, exp and jti are the caller's, because only
//     the caller knows the event and the token's lifetime.
//   - claims is only read, and may be nil (it signs {}). It must not be
//     modified while Sign runs.
//   - Safe for concurrent use. The cost is encoding/json's encoding of the
//     map plus one signature; see BenchmarkSign for figures per algorithm.
//     [Key.SignJSON] skips the map for a caller that encodes its claims.
//   - An error means claims did not marshal to JSON, or the system's random
//     source failed.
func (k *Key) Sign(claims map[string]any) (string, error) {
	if claims == nil {
		claims = map[string]any{}
	}
	payload, err := json.Marshal(claims) // what golang-jwt marshals MapClaims with
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", k.alg, err)
	}
	return k.SignJSON(payload)
}

// String returns "{alg=… kid=…}", never key material. It and the other
// printing methods have value receivers so that a copied Key prints
// redacted too.
func (k Key) String() string { return "{alg=" + k.alg + " kid=" + k.kid + "}" }

// GoString is what %#v prints: the same redacted form.
func (k Key) GoString() string { return "jwtsign.Key" + k.String() }

// Format makes every fmt verb (%v, %+v, %d, %x, …) print the redacted form;
// without it, verbs like %d would walk the struct into the private key.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, k.GoString())
		return
	}
	_, _ = io.WriteString(f, k.String())
}

// LogValue makes slog log a Key as a group of alg and kid.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("alg", k.alg), slog.String("kid", k.kid))
}

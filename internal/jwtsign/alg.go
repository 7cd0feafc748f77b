package jwtsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// supportedAlgs lists every JWS algorithm hookd signs with, in the order
// error messages show them; the first six are RSA's, the default first.
// Receivers pass the same list to jwt.WithValidMethods.
var supportedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// signingMethods maps each of supportedAlgs to golang-jwt's method.
// Resolving the method once, in [NewKey], keeps golang-jwt's locked registry
// off the signing path.
var signingMethods = map[string]jwt.SigningMethod{
	"RS256": jwt.SigningMethodRS256,
	"RS384": jwt.SigningMethodRS384,
	"RS512": jwt.SigningMethodRS512,
	"PS256": jwt.SigningMethodPS256,
	"PS384": jwt.SigningMethodPS384,
	"PS512": jwt.SigningMethodPS512,
	"ES256": jwt.SigningMethodES256,
	"ES384": jwt.SigningMethodES384,
	"ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

// algsFor returns the algorithms that fit pub, the default first, and a
// short description of the key for messages. It returns nil for a key type
// hookd does not sign with.
func algsFor(pub crypto.PublicKey) (algs []string, desc string) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return supportedAlgs[:6], "an RSA key"
	case *ecdsa.PublicKey:
		if alg, ok := curveAlg(pub.Curve); ok {
			return []string{alg}, "an EC " + curveName(pub.Curve) + " key"
		}
		return nil, "an EC " + curveName(pub.Curve) + " key"
	case ed25519.PublicKey:
		return []string{"EdDSA"}, "an Ed25519 key"
	}
	return nil, fmt.Sprintf("a %T key", pub)
}

// curveAlg returns the only algorithm RFC 7518 §3.4 allows for curve c: an
// ECDSA signature's size and hash are tied to the curve.
func curveAlg(c elliptic.Curve) (string, bool) {
	switch c {
	case elliptic.P256():
		return "ES256", true
	case elliptic.P384():
		return "ES384", true
	case elliptic.P521():
		return "ES512", true
	}
	return "", false
}

// methodFor resolves alg for pub: "" means the key's default; anything
// else must be one of supportedAlgs and fit the key.
func methodFor(pub crypto.PublicKey, alg string) (jwt.SigningMethod, error) {
	allowed, desc := algsFor(pub)
	if len(allowed) == 0 {
		return nil, errorf(ErrUnsupportedKey, "%s cannot sign hookd tokens; %s", desc, wantPrivate)
	}
	if alg == "" {
		return signingMethods[allowed[0]], nil
	}
	upper := strings.ToUpper(alg)
	switch {
	case upper == "NONE":
		return nil, errorf(ErrUnsupportedAlg, "alg %q means an unsigned token; only asymmetric algorithms are supported: %s", alg, strings.Join(supportedAlgs, ", "))
	case strings.HasPrefix(upper, "HS"):
		return nil, errorf(ErrUnsupportedAlg, "alg %s is symmetric; only asymmetric algorithms are supported: %s", alg, strings.Join(supportedAlgs, ", "))
	}
	if _, ok := signingMethods[alg]; !ok {
		return nil, errorf(ErrUnsupportedAlg, "alg %q is not supported; use one of %s", alg, strings.Join(supportedAlgs, ", "))
	}
	for _, a := range allowed {
		if a == alg {
			return signingMethods[alg], nil
		}
	}
	if len(allowed) == 1 {
		return nil, errorf(ErrUnsupportedAlg, "alg %s does not fit %s; use %s (or leave alg empty)", alg, desc, allowed[0])
	}
	return nil, errorf(ErrUnsupportedAlg, "alg %s does not fit %s; use one of %s (or leave alg empty for %s)", alg, desc, strings.Join(allowed, ", "), allowed[0])
}

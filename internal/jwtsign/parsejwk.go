package jwtsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"math/big"
)

// jwkIn is a JWK as read: the public members plus every private member
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2), which are only looked at
// to refuse them.
type jwkIn struct {
	jwk
	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	Oth json.RawMessage `json:"oth"`
	K   json.RawMessage `json:"k"`
}

// ParsePublicJWK parses one public JWK, as found in a JWKS, and returns the
// key and its kid: the JWK's "kid" member when it has one, else its RFC 7638
// thumbprint. It is the inverse of [Key.PublicJWK].
//
//	pub, kid, err := jwtsign.ParsePublicJWK(raw)
//
// # Notes
//
//   - Accepted: kty RSA (at least [MinRSABits]), EC with crv P-256, P-384
//     or P-521 (the point must be on the curve), OKP with crv Ed25519.
//   - Refused: kty "oct" (symmetric), any private member ("d", "k", …),
//     "use" other than "sig", an "alg" that does not fit the key, and
//     base64 that is padded or not url-safe.
//   - Errors wrap [ErrUnsupportedKey] or [ErrUnsupportedAlg].
func ParsePublicJWK(raw []byte) (crypto.PublicKey, string, error) {
	var in jwkIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, "", wrapf(ErrUnsupportedKey, err, "jwk is not a JSON object")
	}
	if in.Kty == "oct" { // before the private members: "k" is its secret
		return nil, "", errorf(ErrUnsupportedKey, "jwk kty \"oct\" is a symmetric (HMAC) key; want RSA, EC or OKP")
	}
	private := []struct {
		name string
		v    json.RawMessage
	}{{"d", in.D}, {"p", in.P}, {"q", in.Q}, {"dp", in.DP}, {"dq", in.DQ}, {"qi", in.QI}, {"oth", in.Oth}, {"k", in.K}}
	for _, m := range private {
		if m.v != nil {
			return nil, "", errorf(ErrUnsupportedKey, "jwk has the private member %q; only public keys are accepted", m.name)
		}
	}
	if in.Use != "" && in.Use != "sig" {
		return nil, "", errorf(ErrUnsupportedKey, "jwk use is %q; want \"sig\"", in.Use)
	}
	pub, err := in.publicKey()
	if err != nil {
		return nil, "", err
	}
	if in.Alg != "" {
		if _, err := methodFor(pub, in.Alg); err != nil {
			return nil, "", err
		}
	}
	kid := in.Kid
	if kid == "" {
		j, err := jwkOf(pub)
		if err != nil {
			return nil, "", err
		}
		kid = j.thumbprint()
	}
	return pub, kid, nil
}

func (j jwk) publicKey() (crypto.PublicKey, error) {
	switch j.Kty {
	case "RSA":
		n, err := member("n", j.N, 0)
		if err != nil {
			return nil, err
		}
		e, err := member("e", j.E, 0)
		if err != nil {
			return nil, err
		}
		exp := new(big.Int).SetBytes(e)
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
			return nil, errorf(ErrUnsupportedKey, "jwk RSA exponent e is out of range; want an odd number from 3 to 2^31-1")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
		if bits := pub.N.BitLen(); bits < MinRSABits {
			return nil, errorf(ErrUnsupportedKey, "jwk RSA key is %d bits; at least %d bits are required", bits, MinRSABits)
		}
		return pub, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, errorf(ErrUnsupportedKey, "jwk EC curve %q is not supported; want P-256, P-384 or P-521", j.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err := member("x", j.X, size)
		if err != nil {
			return nil, err
		}
		y, err := member("y", j.Y, size)
		if err != nil {
			return nil, err
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, wrapf(ErrUnsupportedKey, err, "jwk EC point is invalid")
		}
		return pub, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, errorf(ErrUnsupportedKey, "jwk OKP curve %q is not supported; want Ed25519", j.Crv)
		}
		x, err := member("x", j.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	case "":
		return nil, errorf(ErrUnsupportedKey, "jwk has no kty; want RSA, EC or OKP")
	}
	return nil, errorf(ErrUnsupportedKey, "jwk kty %q is not supported; want RSA, EC or OKP", j.Kty)
}

// member decodes a base64url member; size > 0 requires exactly that many
// bytes (EC coordinates and Ed25519 keys have a fixed size).
func member(name, v string, size int) ([]byte, error) {
	if v == "" {
		return nil, errorf(ErrUnsupportedKey, "jwk member %q is missing", name)
	}
	b, err := b64.Strict().DecodeString(v)
	if err != nil {
		return nil, wrapf(ErrUnsupportedKey, err, "jwk member %q is not unpadded base64url", name)
	}
	if size > 0 && len(b) != size {
		return nil, errorf(ErrUnsupportedKey, "jwk member %q is %d bytes; want %d", name, len(b), size)
	}
	return b, nil
}

package jwtsign

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MinRSABits is the smallest RSA modulus accepted. 2048 bits is the floor of
// NIST SP 800-57 and of RFC 7518 §3.3 for RS256; shorter keys are factorable
// by well-funded attackers and are refused rather than merely warned about.
const MinRSABits = 2048

// The help texts that end refusals; kept in one place so that every message
// names the same allowed set.
const (
	wantPrivate = "use an RSA, EC (P-256/384/521) or Ed25519 private key"
	decryptHint = "decrypt it first, e.g. openssl pkey -in key.pem -out key-plain.pem, and keep it mode 0600"
)

// ParsePrivateKeyPEM parses a PEM private key in any form OpenSSL and Go
// commonly write, and checks that hookd can sign with it.
//
//	signer, err := jwtsign.ParsePrivateKeyPEM(pemBytes)
//
// Accepted block types are "PRIVATE KEY" (PKCS#8: RSA, EC or Ed25519),
// "RSA PRIVATE KEY" (PKCS#1) and "EC PRIVATE KEY" (SEC1). An "EC
// PARAMETERS" block before the key, as written by `openssl ecparam -genkey`,
// is skipped. The returned signer is an *rsa.PrivateKey, an
// *ecdsa.PrivateKey or an ed25519.PrivateKey.
//
// # Notes
//
//   - The first block that is not "EC PARAMETERS" decides: a certificate or
//     public key there is refused (a private key is needed), and whatever
//     follows the key is ignored.
//   - Refused with a message that says what to do instead: data that is not
//     PEM (typically an HMAC secret), encrypted keys, public keys and
//     certificates, RSA shorter than [MinRSABits], curves other than P-256,
//     P-384 and P-521, X25519 and other non-signing keys, and DER that does
//     not parse (the message names the PEM type).
//   - Errors wrap [ErrUnsupportedKey]. Any input, however malformed, yields
//     an error and never a panic (see FuzzParsePrivateKeyPEM).
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	rest := data
	sawParams := false
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = next
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is encrypted; encrypted private keys are not supported: %s", block.Type, decryptHint)
		}
		switch block.Type {
		case "EC PARAMETERS":
			sawParams = true
			continue
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, unparsable(block.Type, block.Bytes, err)
			}
			return checkPrivate(k)
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, unparsable(block.Type, block.Bytes, err)
			}
			return checkPrivate(k)
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, unparsable(block.Type, block.Bytes, err)
			}
			return checkPrivate(k)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is encrypted; encrypted private keys are not supported: %s", block.Type, decryptHint)
		case "PUBLIC KEY", "RSA PUBLIC KEY", "EC PUBLIC KEY":
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is a public key; a private key is needed to sign (%s)", block.Type, wantPrivate)
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE", "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is a certificate; a private key is needed to sign (%s)", block.Type, wantPrivate)
		case "OPENSSH PRIVATE KEY":
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is in OpenSSH format, which is not supported; convert it to PKCS#8, e.g. ssh-keygen -p -m PKCS8 -f key", block.Type)
		default:
			return nil, errorf(ErrUnsupportedKey, "PEM block %q is not supported; want \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\"", block.Type)
		}
	}
	if sawParams {
		return nil, errorf(ErrUnsupportedKey, "PEM holds only \"EC PARAMETERS\" and no private key; %s", wantPrivate)
	}
	return nil, errorf(ErrUnsupportedKey, "not a PEM private key; symmetric (HMAC) secrets are not supported: %s", wantPrivate)
}

// checkPrivate accepts the key types and sizes hookd signs with.
func checkPrivate(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return nil, errorf(ErrUnsupportedKey, "RSA key is %d bits; at least %d bits are required", bits, MinRSABits)
		}
		return k, nil
	case *ecdsa.PrivateKey:
		if _, ok := curveAlg(k.Curve); !ok {
			return nil, errorf(ErrUnsupportedKey, "EC curve %s is not supported; use P-256, P-384 or P-521", curveName(k.Curve))
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case *ecdh.PrivateKey:
		return nil, errorf(ErrUnsupportedKey, "X25519 keys agree on secrets but cannot sign; %s", wantPrivate)
	default:
		return nil, errorf(ErrUnsupportedKey, "private key type %T is not supported; %s", k, wantPrivate)
	}
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "(unknown)"
	}
	return c.Params().Name
}

// unparsable explains a DER parse failure, naming the curve or algorithm
// when that is the reason, because "x509: unknown elliptic curve" does not
// tell an operator that secp256k1 is the problem. encoding/asn1's own
// messages (a dump of struct tags) are replaced by "malformed DER"; x509
// sometimes wraps them with %v, hence the text match as a fallback.
func unparsable(blockType string, der []byte, err error) error {
	if hint := derHint(blockType, der); hint != "" {
		return errorf(ErrUnsupportedKey, "PEM block %q holds %s", blockType, hint)
	}
	format := map[string]string{"PRIVATE KEY": "PKCS#8", "RSA PRIVATE KEY": "PKCS#1", "EC PRIVATE KEY": "SEC1"}[blockType]
	var structural asn1.StructuralError
	var syntax asn1.SyntaxError
	if errors.As(err, &structural) || errors.As(err, &syntax) || strings.Contains(err.Error(), "asn1: ") {
		return &keyError{kind: ErrUnsupportedKey, msg: fmt.Sprintf("cannot parse PEM block %q: malformed %s DER", blockType, format)}
	}
	return wrapf(ErrUnsupportedKey, err, "cannot parse PEM block %q as %s", blockType, format)
}

package jwtsign

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// This file looks inside DER that crypto/x509 refused, only to name the
// curve or algorithm in the error. It never accepts anything.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

	// Curves and algorithms operators are likely to meet, by OID.
	oidNames = map[string]string{
		"1.3.132.0.10":          "secp256k1",
		"1.3.132.0.33":          "P-224",
		"1.2.840.10045.3.1.1":   "P-192",
		"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
		"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
		"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
		"1.3.101.111":           "X448",
		"1.3.101.113":           "Ed448",
		"1.2.840.10040.4.1":     "DSA",
	}
)

// ecPrivateKey is SEC1's ECPrivateKey (RFC 5915 §3), enough to read the
// curve OID.
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8 is PKCS#8's PrivateKeyInfo (RFC 5208 §5), enough to read the
// algorithm and its parameters.
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// derHint returns "unsupported EC curve secp256k1 (OID 1.3.132.0.10); use
// P-256, P-384 or P-521" or a similar sentence when der names a curve or
// algorithm hookd does not sign with, and "" when it cannot tell.
func derHint(blockType string, der []byte) string {
	switch blockType {
	case "EC PRIVATE KEY":
		var k ecPrivateKey
		if _, err := asn1.Unmarshal(der, &k); err != nil || len(k.NamedCurveOID) == 0 {
			return ""
		}
		return curveHint(k.NamedCurveOID)
	case "PRIVATE KEY":
		var k pkcs8
		if _, err := asn1.Unmarshal(der, &k); err != nil {
			return ""
		}
		if k.Algo.Algorithm.Equal(oidECPublicKey) {
			var curve asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(k.Algo.Parameters.FullBytes, &curve); err != nil {
				return ""
			}
			return curveHint(curve)
		}
		if name, ok := oidNames[k.Algo.Algorithm.String()]; ok {
			return fmt.Sprintf("an unsupported %s key (OID %s); %s", name, k.Algo.Algorithm, wantPrivate)
		}
	}
	return ""
}

// curveHint names an unsupported curve; for a supported one it returns "",
// since the DER must then be broken for another reason that crypto/x509's
// own error describes better.
func curveHint(oid asn1.ObjectIdentifier) string {
	switch oid.String() {
	case "1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35": // P-256, P-384, P-521
		return ""
	}
	name, ok := oidNames[oid.String()]
	if !ok {
		name = "unknown"
	}
	return fmt.Sprintf("an unsupported EC curve %s (OID %s); use P-256, P-384 or P-521", name, oid)
}

package jwtsign_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestParsePrivateKeyPEMRefusals covers the refusals LoadKey's table does
// not reach: curves and key types that parse (or almost) but cannot sign.
func TestParsePrivateKeyPEMRefusals(t *testing.T) {
	t.Parallel()
	p224 := must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader))
	x25519 := must(ecdh.X25519().GenerateKey(rand.Reader))
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"P-224", sec1PEM(p224), "EC curve P-224 is not supported; use P-256, P-384 or P-521"},
		{"P-224 PKCS#8", pkcs8PEM(p224), "EC curve P-224 is not supported; use P-256, P-384 or P-521"},
		{"secp256k1 SEC1", sec1Raw(asn1.ObjectIdentifier{1, 3, 132, 0, 10}), `PEM block "EC PRIVATE KEY" holds an unsupported EC curve secp256k1 (OID 1.3.132.0.10); use P-256, P-384 or P-521`},
		{"secp256k1 PKCS#8", pkcs8Raw(asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, asn1.ObjectIdentifier{1, 3, 132, 0, 10}), `PEM block "PRIVATE KEY" holds an unsupported EC curve secp256k1`},
		{"Ed448 PKCS#8", pkcs8Raw(asn1.ObjectIdentifier{1, 3, 101, 113}, nil), `PEM block "PRIVATE KEY" holds an unsupported Ed448 key (OID 1.3.101.113)`},
		{"X25519", pkcs8PEM(x25519), "X25519 keys agree on secrets but cannot sign"},
		{"garbage SEC1", pemBlock("EC PRIVATE KEY", []byte("garbage")), `cannot parse PEM block "EC PRIVATE KEY": malformed SEC1 DER`},
		{"garbage PKCS#1", pemBlock("RSA PRIVATE KEY", []byte("garbage")), `cannot parse PEM block "RSA PRIVATE KEY": malformed PKCS#1 DER`},
		{"garbage PKCS#8", pemBlock("PRIVATE KEY", []byte("garbage")), `cannot parse PEM block "PRIVATE KEY": malformed PKCS#8 DER`},
		{"EC PARAMETERS only", pemBlock("EC PARAMETERS", must(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}))), `PEM holds only "EC PARAMETERS" and no private key`},
		{"OpenSSH", pemBlock("OPENSSH PRIVATE KEY", []byte("openssh-key-v1")), "is in OpenSSH format, which is not supported; convert it to PKCS#8"},
		{"DSA", pemBlock("DSA PRIVATE KEY", []byte("x")), `PEM block "DSA PRIVATE KEY" is not supported; want "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY"`},
		{"empty", nil, "not a PEM private key"},
		{"HMAC text secret", []byte("c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n"), "symmetric (HMAC) secrets are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			signer, err := jwtsign.ParsePrivateKeyPEM(tt.pem)
			if err == nil {
				t.Fatalf("ParsePrivateKeyPEM = %T, want an error", signer)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			if !errors.Is(err, jwtsign.ErrUnsupportedKey) {
				t.Errorf("error = %q, want errors.Is(err, ErrUnsupportedKey)", err)
			}
		})
	}
}

// sec1Raw is a SEC1 key on a curve crypto/x509 does not know.
func sec1Raw(curve asn1.ObjectIdentifier) []byte {
	der := must(asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	}{1, randomBytes(32), curve}))
	return pemBlock("EC PRIVATE KEY", der)
}

// pkcs8Raw is a PKCS#8 key of an algorithm (and curve) crypto/x509 does
// not know.
func pkcs8Raw(alg, curve asn1.ObjectIdentifier) []byte {
	ai := pkix.AlgorithmIdentifier{Algorithm: alg}
	if curve != nil {
		ai.Parameters.FullBytes = must(asn1.Marshal(curve))
	}
	der := must(asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, ai, randomBytes(34)}))
	return pemBlock("PRIVATE KEY", der)
}

// FuzzParsePrivateKeyPEM checks that no input panics, and that whatever is
// accepted can make a Key and sign.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	for _, seed := range [][]byte{
		pkcs8PEM(rsaKey()), pkcs1PEM(rsaKey()),
		pkcs8PEM(p256Key()), sec1PEM(p384Key()), sec1ParamsPEM(p521Key()),
		pkcs8PEM(edKey()),
		sec1Raw(asn1.ObjectIdentifier{1, 3, 132, 0, 10}),
		pkcs8Raw(asn1.ObjectIdentifier{1, 3, 101, 113}, nil),
		pemBlock("EC PRIVATE KEY", []byte("garbage")),
		pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0}),
		[]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
		[]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
		[]byte("super-secret-hmac-key"),
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		signer, err := jwtsign.ParsePrivateKeyPEM(data)
		if err != nil {
			if signer != nil {
				t.Fatalf("error %v with a non-nil signer", err)
			}
			if !errors.Is(err, jwtsign.ErrUnsupportedKey) {
				t.Fatalf("error %q does not wrap ErrUnsupportedKey", err)
			}
			return
		}
		key, err := jwtsign.NewKey(signer, "")
		if err != nil {
			t.Fatalf("parsed %T but NewKey: %v", signer, err)
		}
		if _, err := key.Sign(map[string]any{"jti": "x"}); err != nil {
			t.Fatalf("parsed %T but Sign: %v", signer, err)
		}
	})
}

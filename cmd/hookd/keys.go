package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// cmdKeysGenerate writes a new private key, mode 0600, so that a quick
// start needs no openssl incantation.
func cmdKeysGenerate(args []string, stdout io.Writer) error {
	f := newFlags("keys generate")
	typ := f.String("type", "ed25519", "key `TYPE`: ed25519, p256, p384, p521, rsa2048, rsa3072, rsa4096")
	out := f.String("out", "", "`FILE` to write (must not exist)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	if *out == "" {
		return f.usageErr(errors.New("keys generate: -out FILE is required"))
	}
	var key crypto.Signer
	switch *typ {
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "p256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa2048", "rsa3072", "rsa4096":
		bits := map[string]int{"rsa2048": 2048, "rsa3072": 3072, "rsa4096": 4096}[*typ]
		key, err = rsa.GenerateKey(rand.Reader, bits)
	default:
		return f.usageErr(fmt.Errorf("keys generate: -type %q is not supported; use ed25519, p256, p384, p521, rsa2048, rsa3072 or rsa4096", *typ))
	}
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if err := errors.Join(pem.Encode(file, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), file.Close()); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s, mode 0600)\n", *out, *typ)
	return nil
}

package delivery

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/secretfile"
)

// Sizes of the files Build reads. A secret is one line; a PEM private key
// is at most jwtsign.MaxKeyFileSize; a certificate chain and a CA bundle
// are larger (the system bundle is about 200 KiB) but not megabytes.
const (
	maxSecretFile = MaxHeaderValue
	maxCertFile   = 256 << 10
	maxCAFile     = 1 << 20
)

// checkSecretForm refuses a Secret with both or neither of value and file
// (the decoders refuse those already; a Secret built in code may not).
func checkSecretForm(s hook.Secret) error {
	switch {
	case s.File != "" && s.Value != "":
		return errors.New(`both a value and a file: give one, "text" or { file = "name" }`)
	case s.File == "" && s.Value == "":
		return errors.New(`an empty value is not allowed: give "text" or { file = "name" }`)
	}
	return nil
}

// checkFileName refuses names that do not denote a file inside the
// private directory (absolute, "..", the directory itself): the one rule
// of internal/secretfile, which jwtsign's keys follow too.
func checkFileName(name string) error { return secretfile.CheckName(name) }

// readLine reads a one-line secret (a header value, a signing secret)
// from the file name in dir, under the private directory's one rule
// (internal/secretfile.ReadFile: links within the directory are followed,
// links out of it refused, only its owner may read it); white space
// around it (the trailing newline) is trimmed.
func readLine(dir, name, what string) (string, error) {
	return secretfile.ReadLine(dir, name, maxSecretFile, what)
}

// readFile reads a PEM file from the private directory under the same
// rule. private files (keys) must not be accessible to group or others,
// as key files everywhere in hookd; certificates and CAs are public and
// need not be.
func readFile(dir, name string, max int64, private bool) ([]byte, error) {
	return secretfile.ReadFile(dir, name, secretfile.Rule{Max: max, Secret: private, What: "PEM"})
}

// checkSigning judges signing, signing_secrets and signing_key together:
// signing needs a secret or a key, and secrets or a key without signing
// are a mistake (the operator believes requests are signed).
func checkSigning(p *problems, s *hook.DeliverySettings) {
	switch s.Signing {
	case "":
		if len(s.SigningSecrets) > 0 || s.SigningKey != "" {
			p.addf("signing", `signing_secrets or signing_key without signing: set signing = %q, or remove them`, SigningStandardWebhooks)
		}
	case SigningStandardWebhooks:
		if len(s.SigningSecrets) == 0 && s.SigningKey == "" {
			p.addf("signing", "%q needs signing_secrets (v1, HMAC-SHA256) or signing_key (v1a, Ed25519), or both", SigningStandardWebhooks)
		}
	default:
		p.addf("signing", "%q: %q or nothing is allowed", s.Signing, SigningStandardWebhooks)
	}
	if len(s.SigningSecrets) > MaxSigningSecrets {
		p.addf("signing_secrets", "%d secrets: at most %d are allowed (a rotation needs two)", len(s.SigningSecrets), MaxSigningSecrets)
	}
	for i, sec := range s.SigningSecrets {
		key := fmt.Sprintf("signing_secrets[%d]", i)
		if err := checkSecretForm(sec); err != nil {
			p.add(key, err)
			continue
		}
		if sec.File != "" {
			if err := checkFileName(sec.File); err != nil {
				p.add(key, err)
			}
			continue
		}
		if _, err := ParseSecret(sec.Value); err != nil {
			p.add(key, err)
		}
	}
	if s.SigningKey != "" {
		if err := checkFileName(s.SigningKey); err != nil {
			p.add("signing_key", err)
		}
	}
}

// buildSigner reads the secrets and the key and makes the Signer; nil
// when signing is off.
func buildSigner(s *hook.DeliverySettings, dir string) (*Signer, error) {
	if s.Signing == "" {
		return nil, nil
	}
	secrets := make([][]byte, 0, len(s.SigningSecrets))
	for i, sec := range s.SigningSecrets {
		v := sec.Value
		if sec.File != "" {
			var err error
			if v, err = readLine(dir, sec.File, "one signing secret (whsec_ + base64)"); err != nil {
				return nil, fmt.Errorf("signing_secrets[%d]: %w", i, err)
			}
		}
		b, err := ParseSecret(v)
		if err != nil {
			return nil, fmt.Errorf("signing_secrets[%d]: %w", i, err)
		}
		secrets = append(secrets, b)
	}
	var key ed25519.PrivateKey
	if s.SigningKey != "" {
		var err error
		if key, err = readEd25519(dir, s.SigningKey); err != nil {
			return nil, fmt.Errorf("signing_key: %w", err)
		}
	}
	return NewSigner(secrets, key)
}

// readEd25519 reads the v1a key: a PEM Ed25519 private key (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes it).
func readEd25519(dir, name string) (ed25519.PrivateKey, error) {
	data, err := readFile(dir, name, jwtsign.MaxKeyFileSize, true)
	if err != nil {
		return nil, err
	}
	signer, err := jwtsign.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	key, ok := signer.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds %s: an Ed25519 private key is allowed (openssl genpkey -algorithm ed25519)", filepath.Join(dir, name), keyKind(signer))
	}
	return key, nil
}

// keyKind names a private key's type for an error.
func keyKind(k crypto.Signer) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "an RSA key"
	case *ecdsa.PrivateKey:
		return "an ECDSA key"
	}
	return fmt.Sprintf("a %T", k)
}

package delivery

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Standard Webhooks (standardwebhooks.com, the scheme of the
// `standardwebhooks` and `svix` libraries): the signed content is
// "<webhook-id>.<webhook-timestamp>.<body>"; webhook-signature is a
// space-separated list of "<version>,<base64 signature>", v1 for
// HMAC-SHA256 with a shared secret and v1a for Ed25519. A receiver
// accepts the request when any one of the signatures verifies, which is
// what makes a rotation work: hookd signs with every configured secret,
// the receiver holds either.
const (
	// SecretPrefix starts a v1 secret as the libraries print and accept it.
	SecretPrefix = "whsec_"
	// PublicKeyPrefix starts an Ed25519 public key as the specification
	// writes it (the raw 32 bytes in base64).
	PublicKeyPrefix = "whpk_"

	// MinSecretBytes and MaxSecretBytes bound a v1 secret's decoded length:
	// the specification asks for 24 to 64 random bytes.
	MinSecretBytes = 24
	MaxSecretBytes = 64

	// The signature's headers. Sign sets them in Go's canonical form
	// (Webhook-Id …); HTTP header names are case-insensitive.
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signer signs requests the Standard Webhooks way with every v1 secret
// and, when it has one, the Ed25519 key. It is immutable and safe for
// concurrent use: one per target, built once when the target is.
type Signer struct {
	secrets []*hmacPool
	key     ed25519.PrivateKey
}

// hmacPool keeps one secret's keyed HMAC states: hmac.New hashes the key
// into its inner and outer pads, which Reset restores without redoing.
type hmacPool struct {
	sync.Pool
}

func newHMACPool(secret []byte) *hmacPool {
	key := append([]byte(nil), secret...)
	return &hmacPool{sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// ParseSecret decodes a v1 secret: "whsec_" + standard base64 (padded or
// not), or the bare base64 (the prefix is optional, as the libraries
// accept it; URL-safe base64 they refuse, and so does this). Surrounding
// white space, such as a file's trailing newline, is ignored. The error
// never quotes the secret.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, SecretPrefix)
	if s == "" {
		return nil, fmt.Errorf("signing secret is empty: want %q + base64 of %d to %d random bytes", SecretPrefix, MinSecretBytes, MaxSecretBytes)
	}
	// Go's decoder skips line breaks inside the text; the libraries'
	// refuse them, so a secret hookd accepted would fail at the receiver.
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("signing secret has a line break inside: want one line, %q + base64 of %d to %d random bytes", SecretPrefix, MinSecretBytes, MaxSecretBytes)
	}
	// Standard base64, as the libraries decode it: padded, or (what they
	// accept too) without the padding.
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		// The position only, never the text.
		var pos base64.CorruptInputError
		if errors.As(err, &pos) {
			return nil, fmt.Errorf("signing secret is not standard base64 (bad input at byte %d of the base64, after any %q prefix): want %q + base64 of %d to %d random bytes", int64(pos), SecretPrefix, SecretPrefix, MinSecretBytes, MaxSecretBytes)
		}
		return nil, fmt.Errorf("signing secret is not standard base64: want %q + base64 of %d to %d random bytes", SecretPrefix, MinSecretBytes, MaxSecretBytes)
	}
	if err := checkSecretLen(len(b)); err != nil {
		return nil, err
	}
	return b, nil
}

func checkSecretLen(n int) error {
	if n < MinSecretBytes || n > MaxSecretBytes {
		return fmt.Errorf("signing secret decodes to %d bytes: want %d to %d random bytes", n, MinSecretBytes, MaxSecretBytes)
	}
	return nil
}

// NewSigner returns a Signer for the v1 secrets (decoded, as ParseSecret
// returns them; all of them sign) and the optional Ed25519 key (v1a).
// It needs at least one of the two. The secrets and key are copied.
func NewSigner(secrets [][]byte, key ed25519.PrivateKey) (*Signer, error) {
	if len(secrets) == 0 && key == nil {
		return nil, errors.New("standard-webhooks signing needs at least one signing secret (signing_secrets) or a signing key (signing_key)")
	}
	s := &Signer{secrets: make([]*hmacPool, len(secrets))}
	for i, sec := range secrets {
		if err := checkSecretLen(len(sec)); err != nil {
			return nil, fmt.Errorf("signing_secrets[%d]: %w", i, err)
		}
		s.secrets[i] = newHMACPool(sec)
	}
	if key != nil {
		if len(key) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("signing key is %d bytes: want an Ed25519 private key (%d bytes)", len(key), ed25519.PrivateKeySize)
		}
		s.key = append(ed25519.PrivateKey(nil), key...)
	}
	return s, nil
}

// Sign sets webhook-id (id: the delivery's stable id, the same on every
// retry, so that the receiver can drop duplicates), webhook-timestamp
// (at, in unix seconds: the receiver refuses one too far from its clock,
// which is what stops a replay) and webhook-signature on h, replacing
// any earlier values (a retry signs afresh). A nil Signer sets nothing.
// The specification forbids a "." in the id (it separates the signed
// parts); hookd's are event ids, UUIDs.
func (s *Signer) Sign(h http.Header, id string, at time.Time, body []byte) {
	if s == nil {
		return
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	// The signed content, "<id>.<ts>.<body>": the prefix once, and the
	// body after it only when Ed25519 needs the message in one piece
	// (HMAC takes the body where it is).
	n := len(id) + len(ts) + 2
	if s.key != nil {
		n += len(body)
	}
	msg := make([]byte, 0, n)
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	prefix := len(msg)
	if s.key != nil {
		msg = append(msg, body...)
	}
	var sig strings.Builder
	// Each v1: 3 + 44 bytes; v1a: 4 + 88 bytes; separators.
	sig.Grow(len(s.secrets)*48 + 93)
	var sum [sha256.Size]byte
	var b64 [88]byte
	for _, p := range s.secrets {
		m := p.Get().(hash.Hash)
		m.Reset()
		m.Write(msg[:prefix])
		m.Write(body)
		mac := m.Sum(sum[:0])
		p.Put(m)
		if sig.Len() > 0 {
			sig.WriteByte(' ')
		}
		sig.WriteString("v1,")
		base64.StdEncoding.Encode(b64[:], mac)
		sig.Write(b64[:base64.StdEncoding.EncodedLen(len(mac))])
	}
	if s.key != nil {
		if sig.Len() > 0 {
			sig.WriteByte(' ')
		}
		sig.WriteString("v1a,")
		es := ed25519.Sign(s.key, msg)
		base64.StdEncoding.Encode(b64[:], es)
		sig.Write(b64[:base64.StdEncoding.EncodedLen(len(es))])
	}
	// h.Set, without canonicalising the names again on every request.
	h[canonicalID] = []string{id}
	h[canonicalTimestamp] = []string{ts}
	h[canonicalSignature] = []string{sig.String()}
}

var (
	canonicalID        = http.CanonicalHeaderKey(HeaderID)
	canonicalTimestamp = http.CanonicalHeaderKey(HeaderTimestamp)
	canonicalSignature = http.CanonicalHeaderKey(HeaderSignature)
)

// PublicKey returns the Signer's v1a public key as PublicKey writes it,
// or "" when it signs with secrets only.
func (s *Signer) PublicKey() string {
	if s == nil || s.key == nil {
		return ""
	}
	return PublicKey(s.key.Public().(ed25519.PublicKey))
}

// PublicKey writes an Ed25519 public key the way Standard Webhooks
// receivers are given it: "whpk_" + the standard base64 of its raw 32
// bytes. Views and docs show it; it is not a secret.
func PublicKey(key ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(key)
}

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// maxJWKSBytes bounds the JWKS document; hookd's holds a handful of keys.
const maxJWKSBytes = 1 << 20

// publicKey is one usable key of the JWKS.
type publicKey struct {
	key crypto.PublicKey
	alg string // the JWK's alg member; "" when absent
}

// keySet is the JWKS, fetched at start and again when a token names a kid
// it does not know, which is how a key rotation reaches receivers. Fetches
// are at most one per minInterval, so a flood of tokens with made-up kids
// cannot turn the receiver into a load generator against hookd.
type keySet struct {
	url         string
	minInterval time.Duration
	client      *http.Client
	logger      *slog.Logger

	fetchMu sync.Mutex // serialises fetches; never held with mu

	mu          sync.Mutex
	keys        map[string]publicKey // by kid
	lastAttempt time.Time
}

func newKeySet(url string, minInterval time.Duration, logger *slog.Logger) *keySet {
	return &keySet{
		url:         url,
		minInterval: minInterval,
		client:      &http.Client{Timeout: 10 * time.Second},
		logger:      logger,
	}
}

// lookup returns the key for kid, refetching the JWKS once if kid is
// unknown and the last fetch is old enough.
func (s *keySet) lookup(ctx context.Context, kid string) (publicKey, error) {
	if k, ok := s.get(kid); ok {
		return k, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	// Another request may have refetched while this one waited.
	s.mu.Lock()
	k, ok := s.keys[kid]
	recent := time.Since(s.lastAttempt) < s.minInterval
	s.mu.Unlock()
	switch {
	case ok:
		return k, nil
	case recent:
		return publicKey{}, fmt.Errorf("unknown kid %q", kid)
	}
	if err := s.refresh(ctx); err != nil {
		return publicKey{}, fmt.Errorf("unknown kid %q, and refetching the JWKS failed: %w", kid, err)
	}
	if k, ok := s.get(kid); ok {
		return k, nil
	}
	return publicKey{}, fmt.Errorf("unknown kid %q, even in a freshly fetched JWKS", kid)
}

func (s *keySet) get(kid string) (publicKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[kid]
	return k, ok
}

// refresh fetches the JWKS and replaces the keys, so that keys hookd has
// retired stop being accepted. On failure the old keys stay.
func (s *keySet) refresh(ctx context.Context) error {
	s.mu.Lock()
	s.lastAttempt = time.Now()
	s.mu.Unlock()

	// The fetch serves every waiting request, not just this one: it must not
	// be cut short because this request's client went away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("GET %s: JWKS is larger than %d bytes", s.url, maxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("GET %s: not a JWKS: %w", s.url, err)
	}
	keys := make(map[string]publicKey, len(doc.Keys))
	for i, raw := range doc.Keys {
		kid, k, err := parseJWK(raw)
		if err != nil {
			s.logger.Warn("skipping JWKS key", "index", i, "err", err)
			continue
		}
		keys[kid] = k
	}
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	s.logger.Info("JWKS fetched", "url", s.url, "keys", len(keys))
	return nil
}

// parseJWK reads one public signing key: RSA (at least 2048 bits), EC on
// P-256, P-384 or P-521, or Ed25519. Anything else is refused: symmetric
// keys, keys for encryption, keys with private members, keys without kid.
func parseJWK(raw []byte) (string, publicKey, error) {
	var j struct {
		Kty, Kid, Use, Alg, Crv, N, E, X, Y string
		D                                   *string `json:"d"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return "", publicKey{}, fmt.Errorf("not a JWK: %w", err)
	}
	switch {
	case j.Kid == "":
		return "", publicKey{}, errors.New("jwk has no kid")
	case j.Use != "" && j.Use != "sig":
		return "", publicKey{}, fmt.Errorf("jwk %q is for use %q, not sig", j.Kid, j.Use)
	case j.D != nil:
		return "", publicKey{}, fmt.Errorf("jwk %q holds a private key; a JWKS must only hold public keys", j.Kid)
	}
	b64 := base64.RawURLEncoding.Strict()
	var key crypto.PublicKey
	switch j.Kty {
	case "RSA":
		n, errN := b64.DecodeString(j.N)
		e, errE := b64.DecodeString(j.E)
		if err := errors.Join(errN, errE); err != nil {
			return "", publicKey{}, fmt.Errorf("jwk %q: %w", j.Kid, err)
		}
		modulus, exp := new(big.Int).SetBytes(n), new(big.Int).SetBytes(e)
		if modulus.BitLen() < 2048 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
			return "", publicKey{}, fmt.Errorf("jwk %q: RSA key must have at least 2048 bits and an exponent from 3 to 2^31-1", j.Kid)
		}
		key = &rsa.PublicKey{N: modulus, E: int(exp.Int64())}
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		curve, ok := curves[j.Crv]
		if !ok {
			return "", publicKey{}, fmt.Errorf("jwk %q: curve %q is not supported; want P-256, P-384 or P-521", j.Kid, j.Crv)
		}
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if err := errors.Join(errX, errY); err != nil {
			return "", publicKey{}, fmt.Errorf("jwk %q: %w", j.Kid, err)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", publicKey{}, fmt.Errorf("jwk %q: %w", j.Kid, err)
		}
		key = pub
	case "OKP":
		x, err := b64.DecodeString(j.X)
		if err != nil || j.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return "", publicKey{}, fmt.Errorf("jwk %q: want an Ed25519 OKP key with a 32-byte x", j.Kid)
		}
		key = ed25519.PublicKey(x)
	default:
		return "", publicKey{}, fmt.Errorf("jwk %q: kty %q is not supported; want RSA, EC or OKP", j.Kid, j.Kty)
	}
	return j.Kid, publicKey{key: key, alg: j.Alg}, nil
}

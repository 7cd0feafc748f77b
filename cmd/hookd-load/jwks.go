package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// maxJWKSBytes bounds the JWKS document.
const maxJWKSBytes = 1 << 20

// verifyKey is one parsed key of the JWKS.
type verifyKey struct {
	key crypto.PublicKey
	alg string // the JWK's alg member; "" when absent
}

// keySet holds hookd's public keys, parsed once and looked up by kid
// without a lock (the map is replaced whole on a refetch). A token with an
// unknown kid refetches the JWKS, at most once per minInterval.
type keySet struct {
	url         string
	client      *http.Client
	minInterval time.Duration

	keys atomic.Pointer[map[string]verifyKey]

	fetchMu   sync.Mutex // serialises fetches
	lastFetch time.Time  // under fetchMu
	fetches   atomic.Int64
}

func newKeySet(url string, client *http.Client, minInterval time.Duration) *keySet {
	s := &keySet{url: url, client: client, minInterval: minInterval}
	s.keys.Store(&map[string]verifyKey{})
	return s
}

// refresh fetches the JWKS and replaces the keys. Keys that do not parse
// are skipped; a JWKS without a usable key is an error.
func (s *keySet) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	s.fetches.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", s.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("GET %s: the JWKS is larger than %d bytes", s.url, maxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("GET %s: not a JWKS: %w", s.url, err)
	}
	keys := make(map[string]verifyKey, len(doc.Keys))
	var errs []error
	for i, raw := range doc.Keys {
		pub, kid, err := jwtsign.ParsePublicJWK(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		var m struct {
			Alg string `json:"alg"`
		}
		_ = json.Unmarshal(raw, &m) // parsed once already
		keys[kid] = verifyKey{key: pub, alg: m.Alg}
	}
	if len(keys) == 0 {
		return fmt.Errorf("GET %s: no usable key in the JWKS (%d keys): %w", s.url, len(doc.Keys), errors.Join(errs...))
	}
	s.keys.Store(&keys)
	return nil
}

// lookup returns the key for kid, refetching the JWKS once if kid is
// unknown and the last fetch is older than minInterval.
func (s *keySet) lookup(kid string) (verifyKey, error) {
	if k, ok := (*s.keys.Load())[kid]; ok {
		return k, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if k, ok := (*s.keys.Load())[kid]; ok { // fetched while this one waited
		return k, nil
	}
	if time.Since(s.lastFetch) < s.minInterval {
		return verifyKey{}, fmt.Errorf("unknown kid %q", kid)
	}
	s.lastFetch = time.Now()
	if err := s.refresh(context.Background()); err != nil {
		return verifyKey{}, fmt.Errorf("unknown kid %q, and refetching the JWKS failed: %w", kid, err)
	}
	if k, ok := (*s.keys.Load())[kid]; ok {
		return k, nil
	}
	return verifyKey{}, fmt.Errorf("unknown kid %q, even in a freshly fetched JWKS", kid)
}

// keyFunc is the jwt.Keyfunc: the key named by the token's kid, used only
// with the algorithm its JWK names.
func (s *keySet) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("token has no kid header")
	}
	k, err := s.lookup(kid)
	if err != nil {
		return nil, err
	}
	if k.alg != "" && k.alg != t.Method.Alg() {
		return nil, fmt.Errorf("token alg %s does not match the key's alg %s", t.Method.Alg(), k.alg)
	}
	return k.key, nil
}

// algs lists the algorithms of the keys held, for the report.
func (s *keySet) algs() []string {
	seen := map[string]bool{}
	for _, k := range *s.keys.Load() {
		seen[k.alg] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

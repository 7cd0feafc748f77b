package runtime

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Domain tokens: the operator gives a domain's owner a bearer token that
// reaches only that domain. Its text is
//
//	hkd_dt_<16 hex: the id>_<64 hex: 32 random bytes, the secret>
//
// shown once, in the answer that creates it. The store keeps the id (to
// find the token without a scan) and the SHA-256 of the secret. A fast
// hash is right here: the secret is 256 random bits, so there is nothing
// to guess that a slow hash (bcrypt, argon2) would slow down, and a token
// is checked on every API request. The comparison is constant-time.

const (
	tokenPrefix    = "hkd_"
	tokenIDPrefix  = "dt_"
	tokenIDBytes   = 8
	tokenSecretLen = 32
	maxTokenName   = 64
)

// errBadToken is the answer to every token that does not authenticate:
// malformed, unknown, revoked or expired alike.
var errBadToken = fmt.Errorf("domain token: %w", hook.ErrNotFound)

// CreateDomainToken makes a token for domain named name (operator only),
// living ttl (0: until revoked, or [domains] token_max_ttl when that is
// set). The answer's Secret is the token: it is shown this once.
func (rt *Runtime) CreateDomainToken(ctx context.Context, who hook.Principal, domain, name string, ttl time.Duration) (hook.DomainToken, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.DomainToken{}, err
	}
	if !who.IsOperator() {
		return hook.DomainToken{}, notFound(domain)
	}
	if err := checkDomainID(domain); err != nil {
		return hook.DomainToken{}, err
	}
	if err := checkTokenName(name); err != nil {
		return hook.DomainToken{}, err
	}
	max := time.Duration(s.limits.TokenMaxTTL)
	switch {
	case ttl < 0:
		return hook.DomainToken{}, hook.Invalid("ttl: must be 0 (no expiry) or more, got %s", ttl)
	case max > 0 && ttl > max:
		return hook.DomainToken{}, hook.Invalid("ttl: at most %s ([domains] token_max_ttl), got %s", hook.Duration(max), ttl)
	case max > 0 && ttl == 0:
		ttl = max
	}
	idb := make([]byte, tokenIDBytes)
	secret := make([]byte, tokenSecretLen)
	if _, err := rand.Read(idb); err != nil {
		return hook.DomainToken{}, fmt.Errorf("domain token: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return hook.DomainToken{}, fmt.Errorf("domain token: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	t := store.StoredToken{ID: tokenIDPrefix + hex.EncodeToString(idb), Domain: domain, Name: name,
		Hash: hashSecret(hex.EncodeToString(secret)), CreatedAt: now, CreatedBy: who.String()}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.db.CreateDomainToken(ctx, t, who.String(), now); err != nil {
		return hook.DomainToken{}, err
	}
	out := t.Info()
	out.Secret = tokenPrefix + t.ID + "_" + hex.EncodeToString(secret)
	return out, nil
}

// DomainTokens lists domain's live tokens (operator only), without their
// secrets.
func (rt *Runtime) DomainTokens(ctx context.Context, who hook.Principal, domain string) ([]hook.DomainToken, error) {
	s, err := rt.domainState()
	if err != nil {
		return nil, err
	}
	if !who.IsOperator() {
		return nil, notFound(domain)
	}
	ts, err := s.db.DomainTokens(ctx, domain, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]hook.DomainToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Info())
	}
	return out, nil
}

// RevokeDomainToken revokes domain's token tokenID (operator only): from
// the next request on, on every node, it authenticates nothing.
func (rt *Runtime) RevokeDomainToken(ctx context.Context, who hook.Principal, domain, tokenID string) error {
	s, err := rt.domainState()
	if err != nil {
		return err
	}
	if !who.IsOperator() {
		return notFound(domain)
	}
	return s.db.RevokeDomainToken(ctx, domain, tokenID, who.String(), time.Now())
}

// AuthenticateDomainToken returns the principal of a domain token; an
// unknown, malformed, revoked or expired token is an error matching
// hook.ErrNotFound (the same for all, so that an answer says nothing about
// which tokens exist).
func (rt *Runtime) AuthenticateDomainToken(ctx context.Context, token string) (hook.Principal, error) {
	s, err := rt.domainState()
	if err != nil {
		return hook.Principal{}, err
	}
	id, secret, ok := parseToken(token)
	if !ok {
		return hook.Principal{}, errBadToken
	}
	t, err := s.db.DomainToken(ctx, id)
	if errors.Is(err, hook.ErrNotFound) {
		return hook.Principal{}, errBadToken
	}
	if err != nil {
		return hook.Principal{}, err
	}
	now := time.Now()
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(t.Hash)) != 1 ||
		!t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) {
		return hook.Principal{}, errBadToken
	}
	return hook.Principal{Domain: t.Domain, TokenID: t.ID, TokenName: t.Name}, nil
}

// IsDomainToken reports whether s looks like a domain token (its prefix),
// for an API that tells a domain token from the operator's.
func IsDomainToken(s string) bool { return strings.HasPrefix(s, tokenPrefix+tokenIDPrefix) }

// parseToken splits a token's text into its id ("dt_…") and secret.
func parseToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix+tokenIDPrefix)
	if !ok {
		return "", "", false
	}
	idHex, secret, ok := strings.Cut(rest, "_")
	if !ok || len(idHex) != 2*tokenIDBytes || len(secret) != 2*tokenSecretLen || !isHex(idHex) || !isHex(secret) {
		return "", "", false
	}
	return tokenIDPrefix + idHex, secret, true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// hashSecret is what the store keeps of a token's secret.
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// checkDomainID refuses an id that cannot be a DOMAIN_ID in a path.
func checkDomainID(id string) error {
	if id == "" || len(id) > 255 || strings.ContainsAny(id, "/?#") || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return hook.Invalid("domain id %q: must be 1 to 255 bytes without /, ?, # or control characters: the DOMAIN_ID of the domain's events", id)
	}
	return nil
}

// checkTokenName refuses a token name that would not read well in a list
// or an audit record.
func checkTokenName(name string) error {
	if name == "" || len(name) > maxTokenName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return hook.Invalid("name: must be 1 to %d bytes of text without control characters (it names the token in lists and audit records), got %q", maxTokenName, name)
	}
	return nil
}

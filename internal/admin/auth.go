package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/hookrt/hookd/hook"
)

// loginRequired reports whether the admin page asks for the token: the API
// has one.
func (s *server) loginRequired() bool { return s.tokenHash != nil }

// tokenOK compares a pasted token with the API's, in constant time (the
// hashes have the same length whatever was pasted).
func (s *server) tokenOK(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.tokenHash) == 1
}

// checkToken judges the login form's token for [webui.Site.Login]: the
// API's token logs in the operator; anything else is not found.
func (s *server) checkToken(_ context.Context, token string) (hook.Principal, error) {
	if !s.tokenOK(token) {
		return hook.Principal{}, fmt.Errorf("not the API token: %w", hook.ErrNotFound)
	}
	return hook.Operator(), nil
}

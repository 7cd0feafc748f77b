package webapi_test

import (
	"testing"

	"github.com/hookrt/hookd/builtin/webapi"
)

// TestSignupLanguage: the language a sign-up is decided in (the plugin's
// "language" field, the WebAPI's hl) is the caller's primary subtag, or
// the configured language when the caller gives none or no language
// code; without a [webapi] section, the default language.
func TestSignupLanguage(t *testing.T) {
	t.Parallel()
	s := &webapi.Service{Language: "sl"}
	for _, tc := range []struct {
		svc        *webapi.Service
		give, want string
	}{
		{s, "de-AT", "de"},
		{s, "DE_at", "de"},
		{s, "fr", "fr"},
		{s, "", "sl"},
		{s, "not a language", "sl"},
		{nil, "de-AT", "de"},
		{nil, "", webapi.DefaultLanguage},
	} {
		if got := tc.svc.SignupLanguage(tc.give); got != tc.want {
			t.Errorf("SignupLanguage(%q) with [webapi] %v = %q, want %q", tc.give, tc.svc != nil, got, tc.want)
		}
	}
}

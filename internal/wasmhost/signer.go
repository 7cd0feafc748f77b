package wasmhost

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
)

// KeySigner returns the jwt_sign capability for keys, loaded by the caller
// with jwtsign.LoadKey and named as in the plugin's config (keys =
// ["relay.pem"]), and the sorted list of their names, for [hostfn.Grants].
//
//	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
//	g := hostfn.Grants{Sign: sign, Keys: names}
func KeySigner(keys map[string]*jwtsign.Key) (hostfn.SignFunc, []string) {
	keys = maps.Clone(keys)
	sign := func(_ context.Context, name string, claims map[string]any) (string, error) {
		k, ok := keys[name]
		if !ok || k == nil {
			return "", fmt.Errorf("no key named %q", name)
		}
		return k.Sign(claims)
	}
	return sign, slices.Sorted(maps.Keys(keys))
}

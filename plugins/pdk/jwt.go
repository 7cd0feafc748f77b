package pdk

import (
	"errors"
	"runtime"
)

// SignJWT signs claims with the key named key, and returns the compact
// token. The host holds the key: the plugin names it, never sees it.
//
//	token, err := pdk.SignJWT("relay.pem", map[string]any{"iss": "acme", "event": ev.Name()})
//
// # Notes
//
//   - The key must be granted to the plugin (keys = ["relay.pem"] in its
//     settings); otherwise the error is [ErrDenied].
//   - The host adds iat, exp (iat + 300 s) and, when claims lack it, jti
//     (the event's EVENT_ID). Claims that set iat or exp are refused
//     ([ErrBadArgument]); so are claims over 64 KiB ([ErrTooLarge]).
//   - The algorithm follows the key: RS256, ES256/384/512 or EdDSA.
//   - Host errors are a [*HostError] that unwraps to the [Errno].
func SignJWT(key string, claims map[string]any) (string, error) {
	if claims == nil {
		claims = map[string]any{}
	}
	raw, err := appendJSON(nil, claims)
	if err != nil {
		return "", errors.New("pdk: jwt_sign: claims: " + err.Error())
	}
	n := jwtSign(sptr(key), uint32(len(key)), ptr(raw), uint32(len(raw)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(raw)
	if n < 0 {
		return "", hostError("jwt_sign", n)
	}
	token, err := result("jwt_sign", n)
	if err != nil {
		return "", err
	}
	return string(token), nil
}

// Package jwtsign holds the private keys that sign hookd's JWT webhooks (and,
// later, the tokens WASM plugins ask for "by key name"), and publishes their
// public halves as a JWKS.
//
// A key is loaded once, at start-up, from the operator's private directory:
//
//	key, err := jwtsign.LoadKey("/etc/hookd/private", "webhook.pem", "")
//	if err != nil {
//		return fmt.Errorf("[jwt_webhook] private_key: %w", err)
//	}
//	token, err := key.Sign(map[string]any{"iss": "hookd", "jti": eventID})
//
// # Why so strict about the file
//
// The key file is the one secret that lets anybody impersonate the proxy to
// every integration. [LoadKey] therefore refuses to leave the private
// directory (by name or by a symlink leading out of it; links within it, as
// a Kubernetes secret volume has, are followed: the rule every file of the
// directory follows, internal/secretfile), to read anything but a small
// regular file, and to use a file that group or others may read: a mistake
// there is reported at start-up, with the command that fixes it, rather
// than silently accepted.
//
// # Why asymmetric algorithms only
//
// With HMAC every receiver would hold the signing secret, and any of them
// could forge webhooks for all the others. With RSA, ECDSA or Ed25519 the
// receivers need only the public key, which hookd serves as a JWKS at
// /.well-known/jwks.json. "none" and HS256/384/512 are refused by name so
// that the error says why, instead of "unknown algorithm".
//
// # Algorithms
//
// The algorithm follows from the key; only RSA offers a choice:
//
//	RSA (>= 2048 bits)   RS256 (default), RS384, RS512, PS256, PS384, PS512
//	EC P-256             ES256
//	EC P-384             ES384
//	EC P-521             ES512
//	Ed25519              EdDSA
//
// # Key IDs
//
// Every token carries a kid header equal to the RFC 7638 JWK thumbprint of
// the public key ([Key.KID]). It is derived from the key itself, so it needs
// no configuration, never collides between different keys, and lets receivers
// pick the right key from a JWKS that holds both the old and the new key
// during a rotation ([JWKS]).
//
// # Notes
//
//   - A [Key] never prints its private half: [Key.String], [Key.GoString] and
//     [Key.LogValue] show only alg and kid.
//   - A [Key] is immutable and safe for concurrent use.
//   - Errors wrap [ErrUnsafeKeyFile], [ErrUnsupportedKey] or
//     [ErrUnsupportedAlg], so callers can classify them with [errors.Is].
package jwtsign

// Package jwtwebhook is the JWT webhook: on user create, user delete, user
// undelete and domain delete, it POSTs {"jwt": "<compact JWS>"} to one URL,
// signed with an asymmetric private key from the private directory.
//
// Configuration (section [jwt_webhook] of config.toml):
//
//	[jwt_webhook]
//	url         = "https://my-integration.example/api"
//	private_key = "webhook.pem"          # inside storage.private_dir, mode 0600
//	alg         = ""                     # default from the key: RS256, ES256/384/512, EdDSA; PS256… for RSA
//	claims      = { iss = "proxy-1", rid = "456" }   # or a JSON string
//	lifetime    = "300s"
//	previous_keys = []                   # still published in the JWKS during rotation
//	[jwt_webhook.events]
//	user_create = true
//	user_delete = true
//	user_undelete = true
//	domain_delete = true
//
// # Tokens
//
// The header carries alg, typ "JWT" and kid, the RFC 7638 thumbprint of the
// public key, which is served at /.well-known/jwks.json. The claims are the
// configured ones plus iat, exp (iat + lifetime), jti (the EVENT_ID, the
// same on every attempt, so receivers deduplicate on it), event
// ("user_create", …), module, server_id, domain_id and data (every field of
// the event). Configured claims may not set any of those: that is a config
// error, not a silent override. Each attempt is signed afresh, so a retry
// hours later still carries a token that has not expired.
//
// Any 2xx answer delivers the event; anything else is retried on the
// delivery schedule (see the runtime package), 410 disables the target.
package jwtwebhook

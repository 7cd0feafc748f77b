// Package delivery gives a target's delivery settings
// ([hook.DeliverySettings]) their meaning, in one place for every target
// kind (the global events script, a domain's script, the JWT webhook, the
// WebAPI notification, the command sink): the modules decode the
// `delivery` table, and this package judges and compiles it.
//
// # What it does
//
//   - [Validate] judges settings without I/O, at config load, in `hookd
//     check` and for a stored domain. Every problem names its key
//     (`headers."Connection": …`, `filter.where."DOMAIN_ID": …`) and what
//     is allowed; the caller prefixes its section (`[jwt_webhook.delivery]`,
//     [Prefix] does it for every line). [CheckCombine] refuses ordered_by
//     on a combined target, [CheckProxy] judges [delivery] proxy.
//   - [CheckOwner] says what a domain token may not set: files in the
//     private directory and the proxy are the operator's.
//   - [Filter] compiles the event filter the engine ANDs with the target's
//     own Match: a filtered-out event creates no delivery.
//   - [Build] reads the files (header values, signing secrets and key, TLS
//     certificate and key, under the private directory's one rule,
//     internal/secretfile.ReadFile, as jwtsign's keys: links that stay
//     inside it are followed, the mode of secret files checked) and
//     compiles the HTTP side into an [HTTP]; [HTTP.Options] puts it into a
//     target's [outbound.Options] (TLS, proxy, and a Prepare that adds the
//     headers and the Standard Webhooks signature to every attempt).
//   - [ViewEnv] is what operators and domain owners see: what is set,
//     never a secret, and the v1a public key receivers need ([View] is
//     the same without the private directory, hence without the key).
//
// The engine applies the rate limit and the order per key; this package
// only validates those and describes them.
//
// # Headers
//
// Names are RFC 9110 tokens, compared without regard to case. Refused:
// hop-by-hop headers and Host/Content-Length (the transport owns them),
// hookd's own (Content-Type, User-Agent, X-Event-Id, X-Hookd-Batch,
// traceparent, tracestate) and the signature's (webhook-id,
// webhook-timestamp, webhook-signature). At most [MaxHeaders] headers,
// values of at most [MaxHeaderValue] bytes without control characters; a
// file's surrounding white space (its trailing newline) is trimmed.
//
// # Signing
//
// signing = "standard-webhooks" adds webhook-id (the request's
// X-Event-Id: the event's id, the same on every retry), webhook-timestamp
// (the attempt's time) and webhook-signature (a v1 HMAC-SHA256 signature
// per signing secret, all of them during a rotation, and a v1a Ed25519
// one when signing_key is set). See [Signer].
package delivery

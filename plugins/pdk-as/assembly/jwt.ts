import { jwt_sign, readResult, readStatus } from "./internal/host";
import { Result } from "./errors";
import { errResult, hostError, okResult } from "./internal/results";
import { decodeUTF8, encodeUTF8 } from "./internal/utf8";

/**
 * signJWT signs claims, a JSON object, with the key named key, and returns
 * the compact token. The host holds the key: the plugin names it, never
 * sees it.
 *
 *     const claims = new pdk.JSONWriter();
 *     claims.beginObject().key("iss").string("acme").key("event").string(ev.name()).endObject();
 *     const token = pdk.signJWT("relay.pem", claims.toString());
 *
 * # Notes
 *
 *   - The key must be granted to the plugin ([domain.plugin] keys =
 *     ["relay.pem"]); otherwise the error is Errno.Denied.
 *   - The host adds iat, exp (iat + 300 s) and, when the claims lack it,
 *     jti (the event's EVENT_ID). Claims that set iat or exp, or that are
 *     not one JSON object, are refused (Errno.BadArgument); so are claims
 *     over 64 KiB (Errno.TooLarge).
 *   - The algorithm follows the key: RS256, ES256/384/512 or EdDSA.
 *   - "" signs {}.
 */
export function signJWT(key: string, claims: string): Result<string> {
  const k = encodeUTF8(key);
  const c = encodeUTF8(claims.length ? claims : "{}");
  const n = jwt_sign(changetype<usize>(k), k.byteLength, changetype<usize>(c), c.byteLength);
  if (n < 0) return errResult<string>(hostError("jwt_sign", n));
  const token = readResult();
  if (token === null) return errResult<string>(hostError("result_read", readStatus));
  return okResult<string>(decodeUTF8(changetype<usize>(token), token.byteLength));
}

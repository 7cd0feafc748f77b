// The checks verify.mjs and receiver.mjs apply to one signed request: the
// Standard Webhooks libraries from npm for v1 (HMAC-SHA256), and Node's
// own crypto for v1a (Ed25519), which those libraries do not implement.
// Each check answers {ok: true} (with a note when the body is not JSON:
// see library) or {ok: false, error: "..."}, the error being the
// library's own message.
import crypto from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";

// The specification's tolerance, the one both libraries apply.
export const TOLERANCE_SECONDS = 5 * 60;

function describe(e) {
  return `${e && e.name ? e.name + ": " : ""}${e && e.message ? e.message : e}`;
}

function result(fn) {
  try {
    fn();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
}

// library runs a library's verify. Both libraries JSON.parse the body once
// the signature matched (standardwebhooks unless told {jsonParse: false},
// svix always): a SyntaxError therefore means "verified, but the body is
// not JSON" (http_events posts a form, commands XML), which is reported as
// ok with a note rather than as a refusal. Any other error is a refusal.
function library(fn) {
  try {
    fn();
    return { ok: true };
  } catch (e) {
    if (e instanceof SyntaxError) {
      return { ok: true, note: `signature verified; the library's JSON.parse of the body then threw ${describe(e)}` };
    }
    return { ok: false, error: describe(e) };
  }
}

// atClock runs fn with Date.now() reading nowSeconds (when given): the
// libraries take no clock, and a test of the tolerance needs one.
function atClock(nowSeconds, fn) {
  if (!nowSeconds) return fn();
  const real = Date.now;
  Date.now = () => nowSeconds * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

function lower(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers || {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

// standardWebhooks verifies with the `standardwebhooks` package, exactly as
// its README tells a receiver to: new Webhook(secret).verify(body, headers).
export function standardWebhooks(secret, headers, body, nowSeconds) {
  return library(() => atClock(nowSeconds, () => new StandardWebhook(secret).verify(body, lower(headers))));
}

// svix verifies with the `svix` package (its own pinned copy of
// standardwebhooks underneath), as Svix's receivers do.
export function svix(secret, headers, body, nowSeconds) {
  return library(() => atClock(nowSeconds, () => new SvixWebhook(secret).verify(body, lower(headers))));
}

// ed25519 verifies the v1a signatures with Node's crypto, following the
// specification: the public key is "whpk_" + standard base64 of the raw
// 32-byte key, the signed content "<id>.<timestamp>.<body>", the
// timestamp within the tolerance of the clock; any one v1a that verifies
// is enough (v1 entries are someone else's business).
export function ed25519(publicKey, headers, body, nowSeconds) {
  return result(() => {
    const h = lower(headers);
    const id = h["webhook-id"], ts = h["webhook-timestamp"], sig = h["webhook-signature"];
    if (!id || !ts || !sig) throw new Error("Missing required headers");
    const t = parseInt(ts, 10);
    if (Number.isNaN(t) || String(t) !== ts) throw new Error(`Invalid timestamp ${JSON.stringify(ts)}`);
    const now = nowSeconds || Math.floor(Date.now() / 1000);
    if (now - t > TOLERANCE_SECONDS) throw new Error("Message timestamp too old");
    if (t > now + TOLERANCE_SECONDS) throw new Error("Message timestamp too new");
    if (typeof publicKey !== "string" || !publicKey.startsWith("whpk_")) throw new Error('public key does not start with "whpk_"');
    const b64 = publicKey.slice("whpk_".length);
    const raw = Buffer.from(b64, "base64");
    // Buffer.from skips what is not base64: insist that the key round-trips.
    if (raw.toString("base64") !== b64) throw new Error("public key is not standard base64 after whpk_");
    if (raw.length !== 32) throw new Error(`public key is ${raw.length} bytes, an Ed25519 key is 32`);
    const key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
    const msg = Buffer.concat([Buffer.from(`${id}.${ts}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
    for (const part of sig.split(" ")) {
      const comma = part.indexOf(",");
      if (comma < 0 || part.slice(0, comma) !== "v1a") continue;
      const s = Buffer.from(part.slice(comma + 1), "base64");
      if (s.length === 64 && crypto.verify(null, msg, key, s)) return;
    }
    throw new Error("No matching v1a signature found");
  });
}

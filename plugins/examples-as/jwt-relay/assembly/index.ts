// jwt-relay is a hookd plugin that forwards every event, as a JWT signed
// with a key the host holds, to an HTTP endpoint: the AssemblyScript port
// of plugins/examples/jwt-relay, with the same config and behaviour. See
// README.md.

import * as pdk from "@hookrt/pdk-as";

// The entry points hookd calls: the SDK's.
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

/** The plugin's config. */
class Config {
  /** key names the signing key, as granted in the plugin's keys. */
  key: string = "";
  /** url receives the POST; its origin must be in http_allow. */
  url: string = "";
  /** issuer is the token's iss claim. */
  issuer: string = "";
}

/** MIN_TIME_MS is the least time left in the call for the relay to start: less and the request would only time out. */
const MIN_TIME_MS: i64 = 10;

let cfg: Config | null = null;
let cfgError = "";

pdk.handle(handle);

function handle(ev: pdk.Event): pdk.Reply {
  const c = load();
  if (c === null) return pdk.failPermanently(cfgError);
  const left = pdk.deadlineMs();
  if (left < MIN_TIME_MS) {
    return pdk.fail("jwt-relay: only " + left.toString() + "ms left in the call; not starting the request");
  }
  const claims = new pdk.JSONWriter();
  claims.beginObject();
  claims.key("iss").string(c.issuer);
  claims.key("event").string(ev.name());
  claims.key("domain_id").string(ev.get("DOMAIN_ID"));
  claims.key("data").stringMap(ev.fields());
  const session = ev.get("SESSIONID");
  if (session.length > 0) claims.key("session_id").string(session);
  claims.endObject();

  const token = pdk.signJWT(c.key, claims.toString());
  if (!token.ok) return failure("signing with key " + c.key, token.error!);
  // A compact JWT is base64url parts and dots: nothing to escape in JSON.
  const req = new pdk.Request("POST", c.url, "{\"jwt\":\"" + token.value + "\"}")
    .header("Content-Type", "application/json");
  const res = pdk.fetch(req);
  if (!res.ok) return failure("POST " + c.url, res.error!);
  const status = res.value.status;
  if (status < 200 || status > 299) {
    return pdk.fail("jwt-relay: POST " + c.url + ": HTTP " + status.toString() + ": " + excerpt(res.value.body));
  }
  return pdk.noMessage();
}

/**
 * failure fails for good on what no retry can fix (a key or URL the plugin
 * is not allowed, a request the host refuses, an event too large to relay),
 * and for now otherwise (timeouts, transport errors).
 */
function failure(what: string, err: pdk.PdkError): pdk.Reply {
  const msg = "jwt-relay: " + what + ": " + err.message;
  if (err.is(pdk.Errno.Denied) || err.is(pdk.Errno.BadArgument) || err.is(pdk.Errno.TooLarge)) {
    return pdk.failPermanently(msg);
  }
  return pdk.fail(msg);
}

/** load parses the config once; null with cfgError set when it is invalid, for every call. */
function load(): Config | null {
  if (cfg === null && cfgError.length == 0) cfg = parseConfig();
  return cfg;
}

function invalid(msg: string): Config | null {
  cfgError = "jwt-relay: invalid config: " + msg;
  return null;
}

function parseConfig(): Config | null {
  const r = pdk.config();
  if (!r.ok) return invalid(r.error!.message);
  const raw = r.value;
  const unknown = raw.only(["key", "url", "issuer"]);
  if (unknown !== null) return invalid(unknown.message);
  const c = new Config();
  const key = raw.string("key");
  if (!key.ok) return invalid(key.error!.message);
  const url = raw.string("url");
  if (!url.ok) return invalid(url.error!.message);
  const issuer = raw.string("issuer");
  if (!issuer.ok) return invalid(issuer.error!.message);
  c.key = key.value;
  c.url = url.value;
  c.issuer = issuer.value;
  const missing = new Array<string>();
  if (c.key.trim().length == 0) missing.push("\"key\"");
  if (c.url.trim().length == 0) missing.push("\"url\"");
  if (c.issuer.trim().length == 0) missing.push("\"issuer\"");
  if (missing.length > 0) return invalid(missing.join(", ") + " missing");
  if (!c.url.startsWith("https://") && !c.url.startsWith("http://")) {
    return invalid("url " + pdk.quote(c.url) + " is not an http(s) URL");
  }
  return c;
}

/** excerpt is the start of a response body, for the failure message. */
function excerpt(body: string): string {
  const s = body.trim();
  return s.length > 200 ? s.substring(0, 200) + "…" : s;
}

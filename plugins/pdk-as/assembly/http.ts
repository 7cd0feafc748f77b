import { http_request, readResult, readStatus } from "./internal/host";
import { PdkError, Result } from "./errors";
import { errResult, hostError, okResult } from "./internal/results";
import { JSONKind, JSONValue } from "./json";
import { JSONWriter } from "./jsonwriter";
import { encodeUTF8 } from "./internal/utf8";

/** Request is an outbound HTTP request made through the host. */
export class Request {
  /** method defaults to GET. */
  method: string = "";
  /** url is absolute; its scheme, host and port must be in the plugin's http_allow. */
  url: string = "";
  /** headers holds the request's headers, one value each. */
  headers: Map<string, string> = new Map<string, string>();
  /** body is the request body, as text. "" sends none. */
  body: string = "";

  constructor(method: string = "", url: string = "", body: string = "") {
    this.method = method;
    this.url = url;
    this.body = body;
  }

  /** header sets a header and returns the request, for chaining. */
  header(name: string, value: string): Request {
    this.headers.set(name, value);
    return this;
  }

  /** toJSON writes the request object of http_request (ABI.md), headers sorted by name. */
  toJSON(): string {
    const w = new JSONWriter();
    w.beginObject();
    w.key("url").string(this.url);
    if (this.method.length) w.key("method").string(this.method);
    if (this.headers.size > 0) {
      const names = this.headers.keys();
      names.sort();
      w.key("headers").beginObject();
      for (let i = 0; i < names.length; i++) w.key(names[i]).string(this.headers.get(names[i]));
      w.endObject();
    }
    if (this.body.length) w.key("body").string(this.body);
    w.endObject();
    return w.toString();
  }
}

/** Response is the answer to a Request. Any HTTP status is a Response, not an error. */
export class Response {
  status: i32 = 0;
  /** headers holds the response's headers; repeated ones are joined with ", ". */
  headers: Map<string, string> = new Map<string, string>();
  /** body is the response body as text, cut at the plugin's http_max_response (1 MiB by default). */
  body: string = "";
  /** truncated reports that body was cut. */
  truncated: bool = false;

  /** header returns the header name (as the host spells it: canonical, "Content-Type"), or "". */
  header(name: string): string {
    return this.headers.has(name) ? this.headers.get(name) : "";
  }
}

/**
 * fetch sends req through the host (http_request) and returns the response.
 *
 *     const req = new pdk.Request("POST", "https://api.example.com/events", `{"event":"NEWSESSION"}`)
 *       .header("Content-Type", "application/json");
 *     const res = pdk.fetch(req);
 *     if (!res.ok) {
 *       return res.error!.is(pdk.Errno.Denied) ? pdk.failPermanently(res.error!.message) : pdk.fail(res.error!.message);
 *     }
 *     if (res.value.status / 100 != 2) return pdk.fail("api answered HTTP " + res.value.status.toString());
 *
 * # Notes
 *
 *   - The errors carry the host's status: Errno.Denied (the URL, a redirect
 *     or the address it resolves to is not allowed, or the plugin has no
 *     http_allow), Errno.Limit (more requests than http_max_requests in this
 *     call, 4 by default), Errno.Timeout, Errno.Failed (a transport error;
 *     the host logs it), Errno.TooLarge (a request over 64 KiB) or
 *     Errno.BadArgument (a bad URL, method or header).
 *   - Redirects are followed (at most 5), each one checked like the URL.
 *   - The request's timeout is the smaller of the plugin's http_timeout and
 *     what is left of the call (see deadlineMs).
 */
export function fetch(req: Request): Result<Response> {
  const raw = encodeUTF8(req.toJSON());
  const n = http_request(changetype<usize>(raw), raw.byteLength);
  if (n < 0) return errResult<Response>(hostError("http_request", n));
  const out = readResult();
  if (out === null) return errResult<Response>(hostError("result_read", readStatus));
  return parseResponse(out);
}

/** parseResponse reads the response object of http_request, ignoring members it does not know. */
function parseResponse(raw: ArrayBuffer): Result<Response> {
  const v = JSONValue.parseBytes(raw);
  if (!v.ok || v.value.kind != JSONKind.Object) {
    return errResult<Response>(new PdkError("pdk: http_request: the host's response is not a JSON object"));
  }
  const obj = v.value;
  const res = new Response();
  const status = obj.get("status");
  if (status !== null) {
    const s = status.asI64();
    if (s.ok) res.status = <i32>s.value;
  }
  const headers = obj.get("headers");
  if (headers !== null) {
    const names = headers.keys();
    for (let i = 0; i < names.length; i++) {
      const h = headers.get(names[i])!.asString();
      if (h.ok) res.headers.set(names[i], h.value);
    }
  }
  const body = obj.get("body");
  if (body !== null) {
    const b = body.asString();
    if (b.ok) res.body = b.value;
  }
  const truncated = obj.get("truncated");
  if (truncated !== null) {
    const t = truncated.asBool();
    if (t.ok) res.truncated = t.value;
  }
  return okResult<Response>(res);
}

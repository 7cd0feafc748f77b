// The test guest of the AssemblyScript SDK: it exercises every helper, for
// the Go tests (the shared SDK suite, internal/plugintest/sdktest, and
// sdk_test.go here), which build it with asc and run it in hookd's engine. The event's "op" field picks what it does; most ops
// answer with xml(text) so that the test can read a result from the reply.

import * as pdk from "@hookrt/pdk-as";
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

pdk.handle(handle);

function handle(ev: pdk.Event): pdk.Reply {
  const sid = ev.get("SESSIONID");
  const op = ev.get("op");
  if (op == "nomessage") return pdk.noMessage();
  if (op == "get") {
    // the value of the field named by "name", and whether it exists
    const v = ev.lookup(ev.get("name"));
    return pdk.xml(v === null ? "false:" : "true:" + v);
  }
  if (op == "getbytes") {
    const b = ev.getBytes(ev.get("name"));
    return pdk.xml(b === null ? "null" : hex(b));
  }
  if (op == "name") return pdk.xml(ev.name());
  if (op == "fields") return pdk.xml(new pdk.JSONWriter().stringMap(ev.fields()).toString());
  if (op == "fieldcount") return pdk.xml(ev.fields().size.toString());
  if (op == "commands") {
    const text = ev.get("text"), label = ev.get("label");
    return pdk.commands(ev.get("secret"), [
      pdk.messageBox(sid, text), pdk.chat(sid, text, label), pdk.drop(sid), pdk.drop(ev.get("other")),
    ]);
  }
  if (op == "drop") {
    pdk.setSecret(ev.get("secret"));
    return pdk.drop(sid);
  }
  if (op == "escape") return pdk.xml("<x a=\"" + pdk.xmlEscape(ev.get("text")) + "\">" + pdk.xmlEscape(ev.get("text")) + "</x>");
  if (op == "invalid") return pdk.messageBox(sid, "   ");
  if (op == "toomany") {
    const cmds = new Array<pdk.Command>();
    for (let i = 0; i <= pdk.MAX_COMMANDS; i++) cmds.push(pdk.drop(sid));
    return pdk.commands("", cmds);
  }
  if (op == "fail") return pdk.fail(ev.get("text"));
  if (op == "failperm") return pdk.failPermanently(ev.get("text"));
  if (op == "failempty") return pdk.fail("");
  if (op == "throw") throw new Error(ev.get("text"));
  if (op == "index") {
    const a = new Array<i32>(2);
    return pdk.xml(a[I32.parseInt(ev.get("text"))].toString());
  }
  if (op == "config") return configOp();
  if (op == "log") {
    pdk.log(pdk.Level.Debug, "debug line");
    pdk.log(pdk.Level.Info, "info line");
    pdk.log(pdk.Level.Warn, "warn line");
    pdk.log(pdk.Level.Error, "error " + (42).toString() + " <line>");
    return pdk.noMessage();
  }
  if (op == "trace") {
    trace("traced", 2, 1.5, 2);
    return pdk.noMessage();
  }
  if (op == "random") {
    const a = Math.random(), b = Math.random();
    return pdk.xml(a.toString() + " " + b.toString());
  }
  if (op == "time") return pdk.xml(pdk.nowMs().toString() + " " + pdk.deadlineMs().toString());
  if (op == "sign") {
    const token = pdk.signJWT(ev.get("key"), ev.get("claims"));
    if (!token.ok) return pdk.xml(errName(token.error!));
    return pdk.xml(token.value);
  }
  if (op == "fetch") {
    const req = new pdk.Request(ev.get("method"), ev.get("url"), ev.get("body")).header("X-Test", ev.get("text"));
    const res = pdk.fetch(req);
    if (!res.ok) return pdk.xml(errName(res.error!));
    const r = res.value;
    const w = new pdk.JSONWriter();
    w.beginObject();
    w.key("status").integer(r.status);
    w.key("headers").stringMap(r.headers);
    w.key("body").string(r.body);
    w.key("truncated").bool(r.truncated);
    w.endObject();
    return pdk.xml(w.toString());
  }
  if (op == "fetchsize") {
    // a large response: its size, not its body, and the memory it took
    const res = pdk.fetch(new pdk.Request("", ev.get("url")));
    if (!res.ok) return pdk.xml(errName(res.error!));
    const r = res.value;
    return pdk.xml(r.status.toString() + " " + r.body.length.toString() + " " + (r.truncated ? "truncated" : "whole") + " " +
      (memory.size() as i32).toString());
  }
  if (op == "fetchmany") {
    // requests until one fails; the answer lists the outcomes
    const out = new Array<string>();
    for (let i = 0; i < 10; i++) {
      const res = pdk.fetch(new pdk.Request("", ev.get("url")));
      if (!res.ok) {
        out.push(errName(res.error!));
        break;
      }
      out.push(res.value.status.toString());
    }
    return pdk.xml(out.join(" "));
  }
  if (op == "json") {
    // parse "text" and write it back, or the error
    const v = pdk.JSONValue.parse(ev.get("text"));
    return pdk.xml(v.ok ? v.value.toString() : "error " + v.error!.message);
  }
  if (op == "jsonwrite") {
    const w = new pdk.JSONWriter();
    w.beginObject();
    w.key("s").string(ev.get("text"));
    w.key("i").integer(-9223372036854775807 - 1);
    w.key("f").number(1.5);
    w.key("whole").number(3);
    w.key("nan").number(NaN);
    w.key("b").bool(true);
    w.key("n").nullValue();
    w.key("a").beginArray().integer(1).strings(["x", "y"]).beginObject().endObject().endArray();
    w.key("raw").raw(`{"k":[1,2]}`);
    w.endObject();
    return pdk.xml(w.toString());
  }
  if (op == "alloc") {
    // allocates about "text" KiB and drops it: memory must not grow across calls
    const n = I32.parseInt(ev.get("text"));
    let keep = 0;
    for (let i = 0; i < n; i++) keep += new ArrayBuffer(1024).byteLength;
    return pdk.xml(keep.toString() + " " + (memory.size() as i32).toString());
  }
  return pdk.failPermanently("testguest: unknown op \"" + op + "\"");
}

function configOp(): pdk.Reply {
  const cfg = pdk.config();
  if (!cfg.ok) return pdk.failPermanently(cfg.error!.message);
  const c = cfg.value;
  const unknown = c.only(["secret", "key", "url", "limit", "ratio", "on", "tags", "extra"]);
  if (unknown !== null) return pdk.failPermanently(unknown.message);
  const secret = c.string("secret");
  if (!secret.ok) return pdk.failPermanently(secret.error!.message);
  const key = c.string("key", "default.pem");
  if (!key.ok) return pdk.failPermanently(key.error!.message);
  const limit = c.integer("limit", 7);
  if (!limit.ok) return pdk.failPermanently(limit.error!.message);
  const ratio = c.number("ratio", 0.5);
  if (!ratio.ok) return pdk.failPermanently(ratio.error!.message);
  const on = c.bool("on");
  if (!on.ok) return pdk.failPermanently(on.error!.message);
  const tags = c.strings("tags");
  if (!tags.ok) return pdk.failPermanently(tags.error!.message);
  const extra = c.get("extra");
  const w = new pdk.JSONWriter();
  w.beginObject();
  w.key("secret").string(secret.value);
  w.key("key").string(key.value);
  w.key("limit").integer(limit.value);
  w.key("ratio").number(ratio.value);
  w.key("on").bool(on.value);
  w.key("tags").strings(tags.value);
  w.key("extra").raw(extra === null ? "null" : extra.toString());
  w.endObject();
  return pdk.xml(w.toString());
}

// errName is the status of a host error, for the test to compare, and the
// error's text.
function errName(e: pdk.PdkError): string {
  return "E" + (e.errno as i32).toString() + " " + e.message;
}

function hex(b: ArrayBuffer): string {
  const digits = "0123456789abcdef";
  let out = "";
  const u = Uint8Array.wrap(b);
  for (let i = 0; i < u.length; i++) {
    out += digits.charAt(u[i] >> 4) + digits.charAt(u[i] & 15);
  }
  return out;
}

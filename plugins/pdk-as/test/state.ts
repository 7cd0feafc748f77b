// The state test guest: the state functions (state_get, state_set,
// state_incr, state_delete) apart from guest.ts, because a plugin that
// imports them loads only in a hookd that has them. The event's "text"
// field picks the operation, "key", "value" and "ttl" are its arguments.

import * as pdk from "@hookrt/pdk-as";
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

pdk.handle(stateOp);

function stateOp(ev: pdk.Event): pdk.Reply {
  const key = ev.get("key");
  const what = ev.get("text");
  if (what == "get") {
    const v = pdk.getStateString(key);
    if (!v.ok) return pdk.xml(errName(v.error!));
    const s = v.value;
    return pdk.xml(s === null ? "absent" : "value:" + s);
  }
  if (what == "set") {
    const err = pdk.setStateString(key, ev.get("value"), I64.parseInt(ev.get("ttl")));
    return pdk.xml(err === null ? "ok" : errName(err));
  }
  if (what == "incr") {
    const n = pdk.incrState(key, I64.parseInt(ev.get("value")), I64.parseInt(ev.get("ttl")));
    return pdk.xml(n.ok ? n.value.toString() : errName(n.error!));
  }
  if (what == "delete") {
    const d = pdk.deleteState(key);
    return pdk.xml(d.ok ? (d.value ? "deleted" : "absent") : errName(d.error!));
  }
  return pdk.failPermanently("testguest: unknown state op \"" + what + "\"");
}

function errName(e: pdk.PdkError): string {
  return "E" + (e.errno as i32).toString() + " " + e.message;
}

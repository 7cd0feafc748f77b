// session-guard is a hookd plugin that terminates ISL Light sessions opened
// from blocked networks: the AssemblyScript port of
// plugins/examples/session-guard, with the same config and behaviour. See
// README.md.

import * as pdk from "@hookrt/pdk-as";
import { Addr, Prefix, masked, parseAddr, parseAddrPort, parseError, parsePrefix, setParseError } from "./ip";

// The entry points hookd calls: the SDK's.
export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";

/**
 * The event fields that may carry the client's address, in the order they
 * are checked. ISL Light sends reasonAddress; the others are accepted for
 * proxies and relays that use them.
 */
const addressFields = ["reasonAddress", "clientAddress", "CLIENT_ADDR"];

/** The parsed config, read on the first event and kept for the life of the instance (a new config means new instances). */
class Guard {
  block: Prefix[] = [];
  secret: string = "";
}

let loaded: Guard | null = null;
let loadError = "";

pdk.handle(handle);

function handle(ev: pdk.Event): pdk.Reply {
  if (ev.name() != "NEWSESSION") return pdk.noMessage();
  const g = load();
  if (g === null) return pdk.failPermanently(loadError);
  for (let i = 0; i < addressFields.length; i++) {
    const field = addressFields[i];
    const value = ev.lookup(field);
    if (value === null || value.length == 0) continue;
    const addr = readAddr(value);
    if (addr === null) {
      pdk.log(pdk.Level.Warn, field + " " + pdk.quote(value) + " is not an IP address; not checked");
      continue;
    }
    const prefix = blocked(g, addr);
    if (prefix === null) continue;
    const why = "client " + addr.toString() + " (" + field + ") is in blocked " + prefix.toString();
    const session = ev.get("SESSIONID");
    if (session.length == 0) {
      pdk.log(pdk.Level.Warn, why + ", but the event has no SESSIONID to drop");
      return pdk.noMessage();
    }
    pdk.log(pdk.Level.Info, "dropping session " + session + ": " + why);
    return pdk.commands(g.secret, [pdk.drop(session)]);
  }
  return pdk.noMessage();
}

/** load parses the config once; null with loadError set when it is invalid, for every call. */
function load(): Guard | null {
  if (loaded === null && loadError.length == 0) {
    loaded = parseConfig();
  }
  return loaded;
}

function invalid(msg: string): Guard | null {
  loadError = "session-guard: invalid config: " + msg;
  return null;
}

function parseConfig(): Guard | null {
  const cfg = pdk.config();
  if (!cfg.ok) return invalid(cfg.error!.message);
  const c = cfg.value;
  const unknown = c.only(["block", "secret"]);
  if (unknown !== null) return invalid(unknown.message);
  const secret = c.string("secret");
  if (!secret.ok) return invalid(secret.error!.message);
  const block = c.strings("block");
  if (!block.ok) return invalid(block.error!.message);
  const g = new Guard();
  g.secret = secret.value;
  if (g.secret.trim().length == 0) {
    return invalid("\"secret\" (the proxy's XMLMSG database secret) is missing");
  }
  const list = block.value;
  for (let i = 0; i < list.length; i++) {
    const p = readPrefix(list[i]);
    if (p === null) {
      return invalid("block[" + i.toString() + "] " + pdk.quote(list[i]) +
        " is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: " + parseError);
    }
    g.block.push(p);
  }
  return g;
}

/**
 * readPrefix reads "10.0.0.0/8" or "192.0.2.7"; it refuses prefixes with
 * host bits set ("10.0.0.1/8"), which are most likely a mistake.
 */
function readPrefix(text: string): Prefix | null {
  const s = text.trim();
  if (!s.includes("/")) {
    const a = parseAddr(s);
    if (a === null) return null;
    const u = a.unmap();
    return new Prefix(u, u.bitLen);
  }
  const p = parsePrefix(s);
  if (p === null) return null;
  if (!masked(p)) {
    return bad("host bits set");
  }
  if (p.addr.isMapped) {
    if (p.bits < 96) return bad("an IPv4-mapped prefix shorter than /96");
    return new Prefix(p.addr.unmap(), p.bits - 96);
  }
  return p;
}

function bad(msg: string): Prefix | null {
  // parseError is the ip module's; the message goes through it so that
  // parseConfig reports every reason the same way.
  setParseError(msg);
  return null;
}

/**
 * readAddr reads an address, with or without a port ("10.0.0.1:5000",
 * "[2001:db8::1]:443"); IPv4-mapped IPv6 addresses are read as IPv4.
 */
function readAddr(text: string): Addr | null {
  const s = text.trim();
  const a = parseAddr(s);
  if (a !== null) return a.unmap();
  const ap = parseAddrPort(s);
  return ap === null ? null : ap.unmap();
}

/** blocked returns the first blocked prefix that contains a. */
function blocked(g: Guard, a: Addr): Prefix | null {
  for (let i = 0; i < g.block.length; i++) {
    if (g.block[i].contains(a)) return g.block[i];
  }
  return null;
}

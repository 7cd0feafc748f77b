// signup-guard is a hookd plugin that decides its domain's sign-ups while
// the user waits: only addresses at the e-mail domains of an allow-list may
// sign up, and at most a number of them in all, counted in hookd's plugin
// state. The AssemblyScript port of plugins/examples/signup-guard, with the
// same config and behaviour. See its README.md.

import * as pdk from "@hookrt/pdk-as";

// The entry points hookd calls: the SDK's, hookd_v1_on_signup included.
export { hookd_v1_on_event, hookd_v1_init, hookd_v1_on_signup } from "@hookrt/pdk-as";

/** The state key of the count of sign-ups allowed. */
const COUNTER_KEY = "signup-guard/allowed";
const DEFAULT_MESSAGE = "Sign-ups to this domain are open to addresses at ";

/** The parsed config, read on first use and kept for the life of the instance. */
class Guard {
  allow: string[] = [];
  max: i64 = 0;
  message: string = "";

  /** allows reports whether domain is on the list, or under one of its domains. */
  allows(domain: string): bool {
    for (let i = 0; i < this.allow.length; i++) {
      const d = this.allow[i];
      if (domain == d || domain.endsWith("." + d)) return true;
    }
    return false;
  }
}

let loaded: Guard | null = null;
let loadError = "";

function decide(s: pdk.Signup): pdk.Decision {
  const g = load();
  if (g === null) return pdk.cannotDecide(loadError);
  const email = s.email().trim().toLowerCase();
  const at = email.lastIndexOf("@");
  if (at <= 0 || !g.allows(email.substring(at + 1))) {
    pdk.log(pdk.Level.Info, "signup-guard: refused " + pdk.quote(s.username()) + ": e-mail domain not on the allow-list");
    return pdk.refuse(g.message);
  }
  const n = pdk.incrState(COUNTER_KEY, 1, 0);
  if (!n.ok) {
    if (n.error!.is(pdk.Errno.Denied)) {
      return pdk.cannotDecide("signup-guard: the plugin has no state: set state = true in its [domain.plugin]");
    }
    return pdk.cannotDecide("signup-guard: cannot count the sign-up: " + n.error!.message);
  }
  if (g.max > 0 && n.value > g.max) {
    // Give the increment back, so that the count stays the number of
    // sign-ups allowed.
    const back = pdk.incrState(COUNTER_KEY, -1, 0);
    if (!back.ok) pdk.log(pdk.Level.Warn, "signup-guard: count not corrected: " + back.error!.message);
    return pdk.refuse("This domain takes no more sign-ups (its limit is " + g.max.toString() + ").");
  }
  pdk.log(pdk.Level.Info, "signup-guard: allowed " + pdk.quote(s.username()) + ", sign-up " + n.value.toString());
  return pdk.allow();
}

/** load parses the config once; null with loadError set when it is invalid, for every call. */
function load(): Guard | null {
  if (loaded === null && loadError.length == 0) loaded = parseConfig();
  return loaded;
}

function invalid(msg: string): Guard | null {
  loadError = "signup-guard: invalid config: " + msg;
  return null;
}

/** trimDomain lowercases d and drops white space and a leading "@" or ".". */
function trimDomain(d: string): string {
  let s = d.trim();
  let i = 0;
  while (i < s.length && (s.charAt(i) == "@" || s.charAt(i) == ".")) i++;
  return s.substring(i).toLowerCase();
}

function parseConfig(): Guard | null {
  const cfg = pdk.config();
  if (!cfg.ok) return invalid(cfg.error!.message);
  const c = cfg.value;
  const unknown = c.only(["allow", "max", "message"]);
  if (unknown !== null) return invalid(unknown.message);
  const allow = c.strings("allow");
  if (!allow.ok) return invalid(allow.error!.message);
  const max = c.integer("max");
  if (!max.ok) return invalid(max.error!.message);
  const message = c.string("message");
  if (!message.ok) return invalid(message.error!.message);
  const g = new Guard();
  g.max = max.value;
  g.message = message.value;
  const problems: string[] = [];
  const list = allow.value;
  for (let i = 0; i < list.length; i++) {
    const d = trimDomain(list[i]);
    if (d.length == 0 || d.includes("@") || d.includes(" ") || d.includes("/")) {
      problems.push("allow[" + i.toString() + "] " + pdk.quote(list[i]) + ' is not an e-mail domain like "example.com"');
      continue;
    }
    g.allow.push(d);
  }
  if (list.length == 0) problems.push('"allow" (the e-mail domains that may sign up) is missing');
  if (g.max < 0) problems.push('"max" (sign-ups allowed in all, 0 for no bound) must not be negative, got ' + g.max.toString());
  if (problems.length > 0) return invalid(problems.join("; "));
  if (g.message.length == 0) g.message = DEFAULT_MESSAGE + g.allow.join(", ") + " only.";
  return g;
}

pdk.handle((ev: pdk.Event): pdk.Reply => pdk.noMessage());
pdk.handleSignup(decide);

// Sign-up decisions (hostapi/ABI.md, "Sign-up decisions"): a plugin that
// exports hookd_v1_on_signup decides, while the user waits, whether a
// sign-up to its domain is allowed.

import { Event } from "./event";
import { failWith } from "./internal/status";

/** Results of hookd_v1_on_signup. */
export const SIGNUP_ALLOW: i32 = 0;
export const SIGNUP_REFUSE: i32 = 1;
export const SIGNUP_ABSTAIN: i32 = 2;
/** None of the three: hookd refuses the sign-up (fail closed). */
const SIGNUP_FAILED: i32 = 3;

/**
 * Signup is the sign-up a decision is about: the fields the External
 * WebAPI is sent, never the password. Valid during the handler call it is
 * passed to.
 */
export class Signup {
  private ev: Event = new Event();
  /** username is the user name asked for. */
  username(): string { return this.ev.get("username"); }
  /** domain is the DOMAIN_ID signed up to: the plugin's own domain. */
  domain(): string { return this.ev.get("domain"); }
  /** email is the user's e-mail address. */
  email(): string { return this.ev.get("email"); }
  /** fullName is the user's full name. */
  fullName(): string { return this.ev.get("fullname"); }
  /** language is the user's language, a two-letter ISO 639-1 code. */
  language(): string { return this.ev.get("language"); }
  /** get returns any field of the sign-up by name ("" when absent). */
  get(name: string): string { return this.ev.get(name); }
  /** lookup returns a field, or null when absent. */
  lookup(name: string): string | null { return this.ev.lookup(name); }
}

/** Decision is a sign-up handler's answer: allow(), refuse(reason), abstain() or cannotDecide(msg). */
export class Decision {
  constructor(readonly status: i32, readonly reason: string) {}
}

/** allow allows the sign-up (hookd may still ask the External WebAPI next, when signup_plugin is "before"). */
export function allow(): Decision { return new Decision(SIGNUP_ALLOW, ""); }

/**
 * refuse refuses the sign-up; reason is shown to the user, as an External
 * WebAPI's description is (cut at 1 KiB). "" shows hookd's generic refusal.
 */
export function refuse(reason: string): Decision { return new Decision(SIGNUP_REFUSE, reason); }

/** abstain leaves the decision to hookd, as if the plugin had no sign-up handler. */
export function abstain(): Decision { return new Decision(SIGNUP_ABSTAIN, ""); }

/**
 * cannotDecide says the plugin could not decide (a broken config, state it
 * cannot reach): hookd refuses the sign-up with its generic "unavailable"
 * message (fail closed) and logs msg, as the failure message of the call.
 */
export function cannotDecide(msg: string): Decision {
  return new Decision(SIGNUP_FAILED, msg.length > 0 ? msg : "pdk: cannot decide the sign-up");
}

/** SignupHandler decides a sign-up. */
export type SignupHandler = (s: Signup) => Decision;

let signupHandler: SignupHandler | null = null;
const theSignup = new Signup();

/**
 * handleSignup makes fn the plugin's sign-up handler. Call it once, from
 * the plugin's top-level code, and export hookd_v1_on_signup:
 *
 *     import * as pdk from "@hookrt/pdk-as";
 *     export { hookd_v1_on_event, hookd_v1_init, hookd_v1_on_signup } from "@hookrt/pdk-as";
 *
 *     pdk.handleSignup((s: pdk.Signup): pdk.Decision =>
 *       s.email().endsWith("@example.com") ? pdk.allow() : pdk.refuse("Use your example.com address."));
 *
 * # Notes
 *
 *   - fn runs while the user waits, within the plugin's timeout and the
 *     [webapi] timeout: keep it short.
 *   - An abort in fn traps: hookd refuses the sign-up (fail closed).
 *   - Module variables are per instance: a count across sign-ups belongs
 *     in the state functions (incrState).
 */
export function handleSignup(fn: SignupHandler): void {
  if (signupHandler !== null) throw new Error("pdk: handleSignup called twice");
  signupHandler = fn;
}

/**
 * hookd_v1_on_signup runs the sign-up handler (abstaining without one),
 * hands its reason to the host, and collects garbage, as hookd_v1_on_event
 * does.
 */
export function hookd_v1_on_signup(): i32 {
  const status = decideSignup();
  __collect();
  return status;
}

function decideSignup(): i32 {
  const h = signupHandler;
  if (h === null) return SIGNUP_ABSTAIN;
  const d = h(theSignup);
  if (d.reason.length > 0) return failWith(d.status, d.reason);
  return d.status;
}

// The plugin's side of the handshake: the exports hookd calls, the handler
// they run, and what replaces AssemblyScript's "env" imports (abort, trace,
// seed), which hookd does not provide.

import { log_line, random_get } from "./internal/host";
import { Event } from "./event";
import { Reply } from "./reply";
import { STATUS_FAILED, STATUS_HANDLED, STATUS_RETRY, failWith } from "./internal/status";
import { encodeUTF8 } from "./internal/utf8";

/** Handler is a plugin's event handler: given the event, it returns the answer. */
export type Handler = (ev: Event) => Reply;

let handler: Handler | null = null;
const theEvent = new Event();

const NO_HANDLER = "pdk: no handler: call pdk.handle(fn) in the plugin's top-level code";

/**
 * handle makes fn the plugin's event handler. Call it once, from the
 * plugin's top-level code (which runs when an instance starts):
 *
 *     import * as pdk from "@hookrt/pdk-as";
 *     export { hookd_v1_on_event, hookd_v1_init } from "@hookrt/pdk-as";
 *
 *     pdk.handle((ev: pdk.Event): pdk.Reply => {
 *       return pdk.noMessage();
 *     });
 *
 * # Notes
 *
 *   - fn is called once per event, one call at a time: hookd runs each
 *     instance on one thread and gives concurrent events to other
 *     instances, which share nothing. Module variables are therefore per
 *     instance (good for a parsed config, not for anything shared between
 *     events: use the state functions for that).
 *   - fn must not capture local variables (AssemblyScript has no
 *     closures): use a named function or an arrow function that uses only
 *     module variables.
 *   - A throw (or an abort: an index out of range, a failed assertion)
 *     cannot be caught in AssemblyScript: the call traps, its message is
 *     logged at error level, and hookd discards the instance and retries
 *     the event like a failed script.
 *   - Without a handler, hookd refuses to load the plugin.
 */
export function handle(fn: Handler): void {
  if (handler !== null) throw new Error("pdk: handle called twice");
  handler = fn;
}

/** hookd_v1_init refuses the instance when no handler is set (ABI.md, "Exports"). */
export function hookd_v1_init(): i32 {
  if (handler === null) return failWith(STATUS_FAILED, NO_HANDLER);
  return STATUS_HANDLED;
}

/**
 * hookd_v1_on_event runs the handler on the event and hands its reply to
 * the host. After it, no object of the call is referenced from the stack,
 * so the garbage collector of the minimal runtime runs here: memory is
 * reclaimed after every call, and only what module variables hold stays.
 */
export function hookd_v1_on_event(): i32 {
  const status = dispatch();
  __collect();
  return status;
}

function dispatch(): i32 {
  const h = handler;
  if (h === null) return failWith(STATUS_FAILED, NO_HANDLER);
  return h(theEvent).apply();
}

/**
 * hookdAbort replaces AssemblyScript's abort (an "env" import hookd does
 * not provide): it logs the message and where it was raised at error
 * level, sets it as the call's failure message, and traps. Selected with
 * `--use abort=~lib/@hookrt/pdk-as/assembly/plugin/hookdAbort`
 * (asconfig.json).
 */
function hookdAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let msg = "abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) msg += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  failWith(STATUS_RETRY, msg);
  const b = encodeUTF8(msg);
  log_line(3, changetype<usize>(b), b.byteLength);
  unreachable();
}

/**
 * hookdTrace replaces AssemblyScript's trace (an "env" import): it logs
 * the message and its numbers at debug level. Selected with `--use
 * trace=…/hookdTrace`.
 */
function hookdTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let msg = "trace: " + message;
  if (n > 0) msg += " " + a0.toString();
  if (n > 1) msg += " " + a1.toString();
  if (n > 2) msg += " " + a2.toString();
  if (n > 3) msg += " " + a3.toString();
  if (n > 4) msg += " " + a4.toString();
  const b = encodeUTF8(msg);
  log_line(0, changetype<usize>(b), b.byteLength);
}

const seedBuf: usize = memory.data(8, 8);

/**
 * hookdSeed replaces AssemblyScript's seed (an "env" import that seeds
 * Math.random) with 8 bytes of WASI's random_get, which hookd serves from
 * the system's CSPRNG. Selected with `--use seed=…/hookdSeed`.
 */
function hookdSeed(): f64 {
  random_get(seedBuf, 8);
  return reinterpret<f64>((load<u64>(seedBuf) & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);
}

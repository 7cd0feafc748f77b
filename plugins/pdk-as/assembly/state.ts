// Plugin state (getState, setState, incrState, deleteState): values kept by
// hookd between calls, in its store (SQLite or PostgreSQL), shared by every
// instance of the plugin and every hookd node, and surviving instance
// discards and restarts. Keys are namespaced by the plugin's domain. It
// needs state = true in the plugin's [domain.plugin]; without it every
// call fails with Errno.Denied.
//
//     [domain.plugin]
//     state = true
//     state_max_keys = 10000       # the defaults: 10,000 keys,
//     state_max_bytes = 16777216   # 16 MiB of keys and values,
//     state_max_value = 65536      # 64 KiB per value
//
// The errors carry the host's status:
//
//   - Errno.BadArgument: a key that is not 1 to 256 bytes of printable
//     ASCII or a TTL that is negative or over 30 days (both checked here
//     first, with a message saying so), or incrState on a value that is not
//     a decimal integer or a sum that overflows an i64.
//   - Errno.TooLarge: a value over state_max_value.
//   - Errno.Limit: the domain has no room left (state_max_keys,
//     state_max_bytes).
//   - Errno.Denied: the plugin has no state.
//   - Errno.Timeout, Errno.Failed: the store did not answer in time, or
//     could not be used (hookd logged why); worth a retry (fail).
//
// An absent (or expired) key is not an error: getState returns null,
// deleteState false.

import { readState, readStatus, state_delete, state_incr, state_set } from "./internal/host";
import { Errno, PdkError, Result } from "./errors";
import { errResult, hostError, okResult } from "./internal/results";
import { decodeUTF8, encodeUTF8, utf8Length } from "./internal/utf8";
import { quoteText } from "./internal/xml";

/** MAX_STATE_KEY is the longest key, in UTF-8 bytes; keys are 1–256 bytes. */
export const MAX_STATE_KEY: i32 = 256;

/** MAX_STATE_TTL_MS is the longest expiry of setState and incrState: 30 days. */
export const MAX_STATE_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/**
 * stateKey encodes key, or says why the host would refuse it: a key is 1
 * to 256 bytes of printable ASCII (0x20–0x7E), so that every key can be
 * shown as it is.
 */
function stateKey(fn: string, key: string): Result<ArrayBuffer> {
  const n = key.length;
  let ok = n >= 1 && n <= MAX_STATE_KEY;
  for (let i = 0; ok && i < n; i++) {
    const c = key.charCodeAt(i);
    ok = c >= 0x20 && c <= 0x7E;
  }
  if (!ok) {
    return errResult<ArrayBuffer>(new PdkError("pdk: " + fn + ": key " + quoteText(n > 40 ? key.substring(0, 40) + "…" : key) +
      " (" + utf8Length(key).toString() + " bytes): keys are 1 to " + MAX_STATE_KEY.toString() +
      " bytes of printable ASCII", Errno.BadArgument, fn));
  }
  return okResult<ArrayBuffer>(String.UTF8.encode(key));
}

/** checkTTL says why the host would refuse ttlMs, or returns null. */
function checkTTL(fn: string, ttlMs: i64): PdkError | null {
  if (ttlMs >= 0 && ttlMs <= MAX_STATE_TTL_MS) return null;
  return new PdkError("pdk: " + fn + ": a TTL of " + ttlMs.toString() + " ms; it must be 0 (no expiry) to " +
    MAX_STATE_TTL_MS.toString() + " (30 days)", Errno.BadArgument, fn);
}

/**
 * getState returns the value stored at key, or null when there is none (or
 * it expired). The value may change between two calls (another instance
 * or node may write it): incrState is the way to count.
 *
 *     const seen = pdk.getState("seen:" + ev.get("SESSIONID"));
 *     if (!seen.ok) return pdk.fail(seen.error!.message);
 *     if (seen.value !== null) return pdk.noMessage(); // a repeat
 */
export function getState(key: string): Result<ArrayBuffer | null> {
  const k = stateKey("state_get", key);
  if (!k.ok) return errResult<ArrayBuffer | null>(k.error!);
  const v = readState(k.value);
  if (v === null) {
    if (readStatus == Errno.NotFound) return okResult<ArrayBuffer | null>(null);
    return errResult<ArrayBuffer | null>(hostError("state_get", readStatus));
  }
  return okResult<ArrayBuffer | null>(v);
}

/** getStateString is getState for a value stored as text (invalid UTF-8 reads as U+FFFD). */
export function getStateString(key: string): Result<string | null> {
  const v = getState(key);
  if (!v.ok) return errResult<string | null>(v.error!);
  const b = v.value;
  return okResult<string | null>(b === null ? null : decodeUTF8(changetype<usize>(b), b.byteLength));
}

/**
 * setState stores value at key, replacing what was there and its expiry;
 * ttlMs > 0 makes it expire that many milliseconds later, 0 keeps it until
 * deleted.
 *
 *     const err = pdk.setState("seen:" + id, new ArrayBuffer(0), 3600000);
 *
 * # Notes
 *
 *   - Errno.Limit: the domain's key count or byte limits are reached.
 *   - Errno.TooLarge: the value is over the per-value limit.
 */
export function setState(key: string, value: ArrayBuffer, ttlMs: i64 = 0): PdkError | null {
  const k = stateKey("state_set", key);
  if (!k.ok) return k.error;
  const bad = checkTTL("state_set", ttlMs);
  if (bad !== null) return bad;
  const kb = k.value;
  const st = state_set(changetype<usize>(kb), kb.byteLength, changetype<usize>(value), value.byteLength, ttlMs);
  return st < 0 ? hostError("state_set", st) : null;
}

/** setStateString is setState for a text value (stored as UTF-8). */
export function setStateString(key: string, value: string, ttlMs: i64 = 0): PdkError | null {
  return setState(key, encodeUTF8(value), ttlMs);
}

/** The 8 bytes state_incr writes its result to. */
const incrOut: usize = memory.data(8, 8);

/**
 * incrState adds delta to the integer stored at key (absent counts as 0)
 * and returns the new value, atomically: increments from several instances
 * and nodes are never lost. ttlMs (> 0) is set only when the key is
 * created, so a counter expires that long after its first increment: a
 * fixed window.
 *
 *     const n = pdk.incrState("calls:" + ev.get("CPUSER_ID"), 1, 60000);
 *     if (n.ok && n.value > 10) return pdk.drop(ev.get("SESSIONID"));
 *
 * # Notes
 *
 *   - Errno.BadArgument: the value at key is not a decimal integer.
 *   - The value is stored as decimal text: getStateString reads it.
 */
export function incrState(key: string, delta: i64, ttlMs: i64 = 0): Result<i64> {
  const k = stateKey("state_incr", key);
  if (!k.ok) return errResult<i64>(k.error!);
  const bad = checkTTL("state_incr", ttlMs);
  if (bad !== null) return errResult<i64>(bad);
  const kb = k.value;
  const st = state_incr(changetype<usize>(kb), kb.byteLength, delta, ttlMs, incrOut);
  if (st < 0) return errResult<i64>(hostError("state_incr", st));
  return okResult<i64>(load<i64>(incrOut));
}

/** deleteState removes key; it returns false when there was nothing to remove. */
export function deleteState(key: string): Result<bool> {
  const k = stateKey("state_delete", key);
  if (!k.ok) return errResult<bool>(k.error!);
  const kb = k.value;
  const st = state_delete(changetype<usize>(kb), kb.byteLength);
  if (st == Errno.NotFound) return okResult<bool>(false);
  if (st < 0) return errResult<bool>(hostError("state_delete", st));
  return okResult<bool>(true);
}

// The hookd_v1 host functions (hostapi/ABI.md, "Imports"), as the host
// declares them: every pointer and length is an i32 offset into this
// module's memory, and every function returns a status (>= 0 success, for
// readers a length; < 0 an error code).
//
// AssemblyScript emits an import only for the functions a plugin actually
// calls, so a plugin that never touches state does not import state_get:
// it loads in a hookd that has no state functions, and needs no grant.
//
// Nothing here is exported from the package: plugins use the wrappers.

// @ts-ignore: decorator
@external("hookd_v1", "event_len")
export declare function event_len(): i32;

// @ts-ignore: decorator
@external("hookd_v1", "event_read")
export declare function event_read(buf: usize, buf_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "event_get")
export declare function event_get(name: usize, name_len: i32, buf: usize, buf_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "reply_set")
export declare function reply_set(ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "error_set")
export declare function error_set(ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "log")
export declare function log_line(level: i32, ptr: usize, len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "now_ms")
export declare function now_ms(): i64;

// @ts-ignore: decorator
@external("hookd_v1", "deadline_ms")
export declare function deadline_ms(): i64;

// @ts-ignore: decorator
@external("hookd_v1", "config_read")
export declare function config_read(buf: usize, buf_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "jwt_sign")
export declare function jwt_sign(key: usize, key_len: i32, claims: usize, claims_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "http_request")
export declare function http_request(req: usize, req_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "result_read")
export declare function result_read(buf: usize, buf_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "state_get")
export declare function state_get(key: usize, key_len: i32, buf: usize, buf_len: i32): i32;

// @ts-ignore: decorator
@external("hookd_v1", "state_set")
export declare function state_set(key: usize, key_len: i32, val: usize, val_len: i32, ttl_ms: i64): i32;

// @ts-ignore: decorator
@external("hookd_v1", "state_incr")
export declare function state_incr(key: usize, key_len: i32, delta: i64, ttl_ms: i64, out: usize): i32;

// @ts-ignore: decorator
@external("hookd_v1", "state_delete")
export declare function state_delete(key: usize, key_len: i32): i32;

// random_get is WASI's CSPRNG, which hookd provides (ABI.md, "Version
// handshake"); it seeds Math.random (see plugin.ts).
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, buf_len: i32): i32;

// Reading variable-length data (ABI.md): each reader is first called with
// a scratch buffer that most data fits, and only when the data is longer
// again with a buffer of exactly its length. Each reader has its own few
// lines rather than one function switching between them, so that a plugin
// imports only the host functions it calls.

/** The scratch buffer readers try first. */
const SCRATCH_LEN: i32 = 512;
const scratch: usize = memory.data(SCRATCH_LEN, 16);

/**
 * The status of the last read: a length, or an error code when a read
 * function returned null.
 */
export let readStatus: i32 = 0;

/** first handles a reader's first call: the data when it fit (or null on an error), and sets readStatus. */
function first(n: i32): ArrayBuffer | null {
  readStatus = n;
  if (n < 0) return null;
  const out = new ArrayBuffer(n);
  memory.copy(changetype<usize>(out), scratch, <usize>n);
  return out;
}

/** second checks the second call of a reader, which returned got for n bytes into buf. */
function second(got: i32, n: i32, buf: ArrayBuffer): ArrayBuffer | null {
  readStatus = got;
  if (got < 0) return null;
  if (got != n) {
    readStatus = -8; // ERR_FAILED: the data changed between two calls, never with hookd
    return null;
  }
  return buf;
}

/** readEvent reads the form-encoded event (event_read). */
export function readEvent(): ArrayBuffer | null {
  const n = event_read(scratch, SCRATCH_LEN);
  if (n <= SCRATCH_LEN) return first(n);
  const buf = new ArrayBuffer(n);
  return second(event_read(changetype<usize>(buf), n), n, buf);
}

/** readConfig reads the plugin's config (config_read). */
export function readConfig(): ArrayBuffer | null {
  const n = config_read(scratch, SCRATCH_LEN);
  if (n <= SCRATCH_LEN) return first(n);
  const buf = new ArrayBuffer(n);
  return second(config_read(changetype<usize>(buf), n), n, buf);
}

/** readResult reads the result of the last jwt_sign or http_request (result_read). */
export function readResult(): ArrayBuffer | null {
  const n = result_read(scratch, SCRATCH_LEN);
  if (n <= SCRATCH_LEN) return first(n);
  const buf = new ArrayBuffer(n);
  return second(result_read(changetype<usize>(buf), n), n, buf);
}

/** readField reads one field of the event (event_get); name is UTF-8. */
export function readField(name: ArrayBuffer): ArrayBuffer | null {
  const k = changetype<usize>(name), kl = name.byteLength;
  const n = event_get(k, kl, scratch, SCRATCH_LEN);
  if (n <= SCRATCH_LEN) return first(n);
  const buf = new ArrayBuffer(n);
  return second(event_get(k, kl, changetype<usize>(buf), n), n, buf);
}

/**
 * readState reads the value stored at key (state_get); key is UTF-8.
 * Another instance or node may rewrite the value between the probe and the
 * read: it tries a few times, with a buffer of the latest length.
 */
export function readState(key: ArrayBuffer): ArrayBuffer | null {
  const k = changetype<usize>(key), kl = key.byteLength;
  let n = state_get(k, kl, scratch, SCRATCH_LEN);
  if (n <= SCRATCH_LEN) return first(n);
  for (let i = 0; i < 4; i++) {
    const buf = new ArrayBuffer(n);
    const got = state_get(k, kl, changetype<usize>(buf), n);
    readStatus = got;
    if (got < 0) return null;
    if (got <= n) return got == n ? buf : buf.slice(0, got);
    n = got; // rewritten with a longer value: again
  }
  readStatus = -8; // ERR_FAILED: rewritten with a longer value every time
  return null;
}

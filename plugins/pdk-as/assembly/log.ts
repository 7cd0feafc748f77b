import { deadline_ms, log_line, now_ms } from "./internal/host";
import { encodeUTF8 } from "./internal/utf8";

/** Level is the level of a log line. */
export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/**
 * log writes msg to the plugin's log, which hookd records with the call
 * (and `hookd plugin run` shows).
 *
 *     pdk.log(pdk.Level.Info, "dropping session " + id);
 *
 * # Notes
 *
 *   - The host keeps 1 KiB of a line and 32 lines per call; lines beyond
 *     are dropped.
 */
export function log(level: Level, msg: string): void {
  const b = encodeUTF8(msg);
  log_line(<i32>level, changetype<usize>(b), b.byteLength);
}

/** nowMs returns the host's wall clock, in unix milliseconds. */
export function nowMs(): i64 {
  return now_ms();
}

/** NO_DEADLINE is what deadlineMs returns when the call has no deadline. */
export const NO_DEADLINE: i64 = i64.MAX_VALUE;

/**
 * deadlineMs returns the milliseconds left before the call's deadline,
 * rounded down: 0 once it has passed, NO_DEADLINE when the call has none
 * (while an instance starts).
 *
 *     if (pdk.deadlineMs() < 50) return pdk.fail("not enough time left to call the API");
 *
 * # Notes
 *
 *   - Host HTTP requests are bounded by the deadline anyway; deadlineMs is
 *     for deciding whether to start something at all.
 */
export function deadlineMs(): i64 {
  const ms = deadline_ms();
  return ms < 0 ? 0 : ms;
}

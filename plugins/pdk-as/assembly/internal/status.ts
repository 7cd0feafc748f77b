import { error_set } from "./host";
import { encodeUTF8 } from "./utf8";

/** Statuses of hookd_v1_on_event (hostapi/ABI.md, "Exports"). */
export const STATUS_HANDLED: i32 = 0;
export const STATUS_RETRY: i32 = 1;
export const STATUS_FAILED: i32 = 2;

/** failWith sets msg as the failure message and returns status. */
export function failWith(status: i32, msg: string): i32 {
  const b = encodeUTF8(msg);
  error_set(changetype<usize>(b), b.byteLength);
  return status;
}


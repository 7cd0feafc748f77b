// Constructors of Results and host errors, for the SDK's modules.

import { Errno, PdkError, Result, errnoName } from "../errors";

/** errnoText says what a status means, as the Go PDK does. */
function errnoText(status: i32): string {
  switch (status) {
    case -1: return "argument not valid";
    case -2: return "pointer or length outside guest memory";
    case -3: return "not found";
    case -4: return "over a size limit";
    case -5: return "not granted or not allowed";
    case -6: return "limit exhausted";
    case -7: return "deadline or timeout passed";
    case -8: return "failed (see the plugin log)";
  }
  return "";
}

/** hostError is the error of host function fn returning status. */
export function hostError(fn: string, status: i32): PdkError {
  const text = errnoText(status);
  const name = errnoName(status);
  return new PdkError("pdk: " + fn + ": " + (text.length ? name + ": " + text : name), <Errno>status, fn);
}

/** okResult wraps v in a successful Result. */
export function okResult<T>(v: T): Result<T> {
  return new Result<T>(v, null);
}

/** errResult is a failed Result. */
export function errResult<T>(e: PdkError): Result<T> {
  if (isReference<T>()) {
    return new Result<T>(changetype<T>(0), e);
  } else {
    return new Result<T>(<T>0, e);
  }
}

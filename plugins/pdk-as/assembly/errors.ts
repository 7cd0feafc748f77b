// Errors without exceptions: AssemblyScript has no try/catch (a throw
// aborts the instance), so every SDK function that can fail returns a
// Result<T> or a PdkError | null, as Go returns (value, error).

/**
 * Errno is a status code of the hookd_v1 host functions (hostapi/ABI.md,
 * "Status codes"): what a [PdkError] from a host call carries.
 *
 *     const res = pdk.fetch(req);
 *     if (!res.ok && res.error!.is(pdk.Errno.Denied)) {
 *       return pdk.failPermanently(res.error!.message); // no retry makes the URL allowed
 *     }
 */
export enum Errno {
  /** Not a host status: the SDK's own error (bad JSON, a value of the wrong type). */
  None = 0,
  /** An argument is not valid (bad JSON, a forbidden claim), or no call is running. */
  BadArgument = -1,
  /** A pointer or length lies outside guest memory: a bug of the SDK. */
  Memory = -2,
  /** No such field, key or result. */
  NotFound = -3,
  /** Over a size limit (reply, request, claims, state value). */
  TooLarge = -4,
  /** The capability is not granted, or the target is not allowed. */
  Denied = -5,
  /** A count or rate limit is exhausted (log lines, HTTP requests, state keys). */
  Limit = -6,
  /** The call's deadline or the request's timeout passed. */
  Timeout = -7,
  /** The operation failed for another reason (the host logged why). */
  Failed = -8,
}

/** errnoName returns the ABI name of a status ("ERR_DENIED"), "OK" for 0, or "ERR(n)". */
export function errnoName(status: i32): string {
  switch (status) {
    case 0: return "OK";
    case -1: return "ERR_BAD_ARGUMENT";
    case -2: return "ERR_MEMORY";
    case -3: return "ERR_NOT_FOUND";
    case -4: return "ERR_TOO_LARGE";
    case -5: return "ERR_DENIED";
    case -6: return "ERR_LIMIT";
    case -7: return "ERR_TIMEOUT";
    case -8: return "ERR_FAILED";
  }
  return "ERR(" + status.toString() + ")";
}

/**
 * PdkError is the failure of an SDK function: its message and, when a host
 * function refused, the host function and its status.
 *
 *     const token = pdk.signJWT("relay.pem", claims);
 *     if (!token.ok) pdk.log(pdk.Level.Warn, token.error!.message);
 *     // pdk: jwt_sign: ERR_DENIED: not granted or not allowed
 */
export class PdkError {
  constructor(
    /** The whole text, e.g. "pdk: http_request: ERR_DENIED: not granted or not allowed". */
    public message: string,
    /** The host status, or Errno.None for an error of the SDK itself. */
    public errno: Errno = Errno.None,
    /** The host function that refused ("http_request"), or "". */
    public func: string = "",
  ) {}

  /** is reports whether the error is the host status e. */
  is(e: Errno): bool {
    return this.errno == e;
  }

  /**
   * wrap returns the error with prefix and ": " before its message, keeping
   * its status, as Go's fmt.Errorf("%s: %w") does.
   */
  wrap(prefix: string): PdkError {
    return new PdkError(prefix + ": " + this.message, this.errno, this.func);
  }

  toString(): string {
    return this.message;
  }
}

/**
 * Result is a value or the error that prevented it: check ok (or error)
 * before reading value.
 *
 *     const cfg = pdk.config();
 *     if (!cfg.ok) return pdk.failPermanently(cfg.error!.message);
 *     const secret = cfg.value.string("secret");
 *
 * # Notes
 *
 *   - Reading value of a failed Result aborts the call with the error's
 *     message: the instance traps and is replaced, and hookd retries the
 *     event. Check first.
 */
export class Result<T> {
  constructor(private _value: T, public error: PdkError | null) {}

  /** ok reports whether the Result holds a value. */
  get ok(): bool {
    return this.error === null;
  }

  /** value is the value; it aborts when the Result failed. */
  get value(): T {
    const e = this.error;
    if (e !== null) {
      throw new Error("pdk: value of a failed Result: " + e.message);
    }
    return this._value;
  }
}

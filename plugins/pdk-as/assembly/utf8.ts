import { decodeUTF8, encodeUTF8 } from "./internal/utf8";

/**
 * toUTF8 encodes s as UTF-8, a lone surrogate (a string cut inside a pair)
 * as U+FFFD: the bytes the host functions take.
 */
export function toUTF8(s: string): ArrayBuffer {
  return encodeUTF8(s);
}

/**
 * fromUTF8 decodes UTF-8 bytes (an event's raw value, a state value), each
 * byte that does not start a valid sequence as U+FFFD, as Go does.
 */
export function fromUTF8(b: ArrayBuffer): string {
  return decodeUTF8(changetype<usize>(b), b.byteLength);
}

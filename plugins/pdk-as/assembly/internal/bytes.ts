import { decodeUTF8 } from "./utf8";

/**
 * ByteWriter collects UTF-8 output (a reply, a request, claims) in one
 * growing buffer, so that building a document does not concatenate
 * UTF-16 strings over and over and convert at the end.
 */
export class ByteWriter {
  private buf: ArrayBuffer;
  private n: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.buf = new ArrayBuffer(max(capacity, 16));
  }

  /** length is the number of bytes written. */
  get length(): i32 {
    return this.n;
  }

  private reserve(more: i32): usize {
    const need = this.n + more;
    if (need > this.buf.byteLength) {
      let size = this.buf.byteLength << 1;
      if (size < need) size = need;
      const next = new ArrayBuffer(size);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.n);
      this.buf = next;
    }
    return changetype<usize>(this.buf) + <usize>this.n;
  }

  /** byte appends one byte. */
  byte(b: u8): ByteWriter {
    store<u8>(this.reserve(1), b);
    this.n++;
    return this;
  }

  /** string appends s as UTF-8 (a lone surrogate as U+FFFD). */
  string(s: string): ByteWriter {
    return this.stringPart(s, 0, s.length);
  }

  /** stringPart appends the UTF-16 units [from, to) of s as UTF-8. */
  stringPart(s: string, from: i32, to: i32): ByteWriter {
    const units = to - from;
    if (units <= 0) return this;
    const dst = this.reserve(units * 3); // at most 3 bytes per unit
    const wrote = String.UTF8.encodeUnsafe(changetype<usize>(s) + (<usize>from << 1), units, dst, false, String.UTF8.ErrorMode.REPLACE);
    this.n += <i32>wrote;
    return this;
  }

  /** bytes appends the bytes of b. */
  bytes(b: ArrayBuffer): ByteWriter {
    const len = b.byteLength;
    memory.copy(this.reserve(len), changetype<usize>(b), <usize>len);
    this.n += len;
    return this;
  }

  /** toBuffer returns a copy of what was written. */
  toBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.n);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf), <usize>this.n);
    return out;
  }

  /** toString decodes what was written. */
  toString(): string {
    return decodeUTF8(changetype<usize>(this.buf), this.n);
  }

  /** ptr is the address of the first byte written, valid until the next write. */
  get ptr(): usize {
    return changetype<usize>(this.buf);
  }
}

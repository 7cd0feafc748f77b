import { ByteWriter } from "./bytes";

const HEX = "0123456789abcdef";

/**
 * appendJSONString appends s as a JSON string: quotes, backslashes and
 * control characters escaped, lone surrogates as U+FFFD.
 */
export function appendJSONString(w: ByteWriter, s: string): void {
  w.byte(0x22);
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5C) continue;
    w.stringPart(s, start, i);
    start = i + 1;
    w.byte(0x5C);
    switch (c) {
      case 0x22: w.byte(0x22); break;
      case 0x5C: w.byte(0x5C); break;
      case 0x0A: w.byte(0x6E); break;
      case 0x0D: w.byte(0x72); break;
      case 0x09: w.byte(0x74); break;
      default:
        w.byte(0x75).byte(0x30).byte(0x30);
        w.byte(<u8>HEX.charCodeAt(c >> 4));
        w.byte(<u8>HEX.charCodeAt(c & 15));
    }
  }
  w.stringPart(s, start, n);
  w.byte(0x22);
}

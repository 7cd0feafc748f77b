// Strings cross the ABI as UTF-8 bytes; AssemblyScript's strings are
// UTF-16. These two functions convert at the boundary, replacing what the
// other side cannot carry with U+FFFD, as Go (and so hookd) does:
//
//   - encodeUTF8: a lone surrogate (a string cut inside a pair) becomes
//     EF BF BD, so the host never receives invalid UTF-8.
//   - decodeUTF8: every byte that does not start a valid, shortest-form
//     sequence of a code point becomes U+FFFD (AssemblyScript's own
//     String.UTF8.decode does not check, and would invent characters).
//
// Event values are bytes: a proxy may send Latin-1. They arrive here as
// U+FFFD where they are not UTF-8; Event.getBytes gives the bytes as sent.

/** encodeUTF8 encodes s as UTF-8, lone surrogates as U+FFFD. */
export function encodeUTF8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

/** decodeUTF8 decodes the len bytes at ptr, invalid bytes as U+FFFD. */
export function decodeUTF8(ptr: usize, len: i32): string {
  if (len <= 0) return "";
  const end = ptr + <usize>len;
  // At most one UTF-16 unit per byte: a 4-byte sequence makes a pair.
  const out = __new(<usize>len << 1, idof<String>());
  let o = out;
  let p = ptr;
  while (p < end) {
    let c = <u32>load<u8>(p);
    if (c < 0x80) {
      store<u16>(o, <u16>c);
      o += 2;
      p++;
      continue;
    }
    let need = 0;
    let min: u32 = 0;
    if ((c & 0xE0) == 0xC0) {
      need = 1; min = 0x80; c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      need = 2; min = 0x800; c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      need = 3; min = 0x10000; c &= 0x07;
    }
    let ok = need > 0 && p + <usize>need < end + 1;
    if (ok) {
      for (let i = 1; i <= need; i++) {
        const b = <u32>load<u8>(p + <usize>i);
        if ((b & 0xC0) != 0x80) {
          ok = false;
          break;
        }
        c = (c << 6) | (b & 0x3F);
      }
    }
    if (!ok || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      store<u16>(o, 0xFFFD);
      o += 2;
      p++;
      continue;
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      store<u16>(o, <u16>(0xD800 | (c >> 10)));
      store<u16>(o, <u16>(0xDC00 | (c & 0x3FF)), 2);
      o += 4;
    } else {
      store<u16>(o, <u16>c);
      o += 2;
    }
    p += <usize>need + 1;
  }
  return changetype<string>(__renew(out, o - out));
}

/** utf8Length is the length of s in UTF-8 bytes. */
export function utf8Length(s: string): i32 {
  return String.UTF8.byteLength(s, false);
}

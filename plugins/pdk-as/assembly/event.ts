import { readEvent, readField } from "./internal/host";
import { ByteWriter } from "./internal/bytes";
import { decodeUTF8, encodeUTF8 } from "./internal/utf8";

/**
 * Event is the proxy event a call handles: the fields of an ISL HTTP event
 * (MODULE, EVENT, SESSIONID, …) plus hookd's EVENT_ID. Field names are
 * case-sensitive.
 *
 *     if (ev.name() == "NEWSESSION") {
 *       const id = ev.get("SESSIONID");
 *     }
 *
 * # Notes
 *
 *   - An Event is valid during the handler call it is passed to; do not
 *     keep it for the next call.
 *   - Values are UTF-8 text as strings; bytes that are not UTF-8 read as
 *     U+FFFD (getBytes gives them as sent).
 */
export class Event {
  /**
   * get returns the value of the field name, or "" when the event has no
   * such field. It asks the host for that one field (event_get): it does
   * not read or parse the whole event.
   */
  get(name: string): string {
    const v = this.lookup(name);
    return v === null ? "" : v;
  }

  /** lookup returns the value of the field name, or null when the event has no such field. */
  lookup(name: string): string | null {
    const b = readField(encodeUTF8(name));
    return b === null ? null : decodeUTF8(changetype<usize>(b), b.byteLength);
  }

  /** getBytes returns the raw bytes of the field name, or null when the event has no such field. */
  getBytes(name: string): ArrayBuffer | null {
    return readField(encodeUTF8(name));
  }

  /**
   * name returns the EVENT field, with the spelling "NEW SESSION" that some
   * proxies send turned into "NEWSESSION".
   */
  name(): string {
    const n = this.get("EVENT");
    return n == "NEW SESSION" ? "NEWSESSION" : n;
  }

  /**
   * fields reads and decodes the whole event (event_read) and returns its
   * fields, sorted by name, as a new Map the caller owns.
   *
   *     const f = ev.fields();
   *     const names = f.keys();
   *
   * # Notes
   *
   *   - Each call reads the event again; to look at a few fields, get is
   *     cheaper.
   *   - Outside a call (while an instance starts) the map is empty.
   */
  fields(): Map<string, string> {
    const raw = readEvent();
    if (raw === null) return new Map<string, string>();
    return parseForm(raw);
  }

  /** raw returns the event as hookd hands it over: application/x-www-form-urlencoded, sorted by name. */
  raw(): ArrayBuffer {
    const b = readEvent();
    return b === null ? new ArrayBuffer(0) : b;
  }
}

/**
 * parseForm decodes application/x-www-form-urlencoded data as Go's
 * url.ParseQuery does, keeping the last value of a repeated name; a '%'
 * not followed by two hex digits is kept as it is.
 */
export function parseForm(b: ArrayBuffer): Map<string, string> {
  const m = new Map<string, string>();
  const base = changetype<usize>(b);
  const n = b.byteLength;
  const w = new ByteWriter(64);
  let i = 0;
  while (i < n) {
    let end = i;
    while (end < n && load<u8>(base + <usize>end) != 0x26) end++; // '&'
    if (end > i) {
      let eq = i;
      while (eq < end && load<u8>(base + <usize>eq) != 0x3D) eq++; // '='
      const name = unescape(w, base, i, eq);
      const value = eq < end ? unescape(w, base, eq + 1, end) : "";
      m.set(name, value);
    }
    i = end + 1;
  }
  return m;
}

/** unescape decodes '+' and %XX in bytes [from, to) at base, through w. */
function unescape(w: ByteWriter, base: usize, from: i32, to: i32): string {
  let plain = true;
  for (let k = from; k < to; k++) {
    const c = load<u8>(base + <usize>k);
    if (c == 0x25 || c == 0x2B) {
      plain = false;
      break;
    }
  }
  if (plain) return decodeUTF8(base + <usize>from, to - from);
  const start = w.length;
  for (let k = from; k < to; k++) {
    let c = load<u8>(base + <usize>k);
    if (c == 0x2B) {
      c = 0x20;
    } else if (c == 0x25 && k + 2 < to && isHex(load<u8>(base + <usize>k + 1)) && isHex(load<u8>(base + <usize>k + 2))) {
      c = (unhex(load<u8>(base + <usize>k + 1)) << 4) | unhex(load<u8>(base + <usize>k + 2));
      k += 2;
    }
    w.byte(c);
  }
  return decodeUTF8(w.ptr + <usize>start, w.length - start);
}

function isHex(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function unhex(c: u8): u8 {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}

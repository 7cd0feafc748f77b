import { ByteWriter } from "./internal/bytes";
import { appendJSONString } from "./internal/jsonstring";

/**
 * JSONWriter builds a JSON document, for jwt_sign's claims or a request
 * body: strings are escaped, commas and colons placed for you.
 *
 *     const w = new pdk.JSONWriter();
 *     w.beginObject();
 *     w.key("iss").string("acme");
 *     w.key("n").integer(3);
 *     w.key("data").stringMap(ev.fields());
 *     w.endObject();
 *     const token = pdk.signJWT("relay.pem", w.toString());
 *
 * # Notes
 *
 *   - The writer does not check the document's shape: a key outside an
 *     object, or an unclosed array, gives JSON the host refuses
 *     (ERR_BAD_ARGUMENT).
 *   - NaN and the infinities are written as null: JSON has no such
 *     numbers.
 */
export class JSONWriter {
  private w: ByteWriter = new ByteWriter(256);
  /** Per open container: whether a value was written in it (so the next needs a comma). */
  private filled: bool[] = [false];
  /** Set by key: the next value follows a colon, not a comma. */
  private afterKey: bool = false;

  private before(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const top = this.filled.length - 1;
    if (this.filled[top]) this.w.byte(0x2C);
    this.filled[top] = true;
  }

  /** beginObject opens an object: {. */
  beginObject(): JSONWriter {
    this.before();
    this.w.byte(0x7B);
    this.filled.push(false);
    return this;
  }

  /** endObject closes an object: }. */
  endObject(): JSONWriter {
    if (this.filled.length > 1) this.filled.pop();
    this.w.byte(0x7D);
    return this;
  }

  /** beginArray opens an array: [. */
  beginArray(): JSONWriter {
    this.before();
    this.w.byte(0x5B);
    this.filled.push(false);
    return this;
  }

  /** endArray closes an array: ]. */
  endArray(): JSONWriter {
    if (this.filled.length > 1) this.filled.pop();
    this.w.byte(0x5D);
    return this;
  }

  /** key writes an object member's name; the value comes next. */
  key(name: string): JSONWriter {
    this.before();
    appendJSONString(this.w, name);
    this.w.byte(0x3A);
    this.afterKey = true;
    return this;
  }

  /** string writes a string value. */
  string(s: string): JSONWriter {
    this.before();
    appendJSONString(this.w, s);
    return this;
  }

  /** integer writes an integer value. */
  integer(n: i64): JSONWriter {
    this.before();
    this.w.string(n.toString());
    return this;
  }

  /** number writes a number value (NaN and infinities as null). */
  number(f: f64): JSONWriter {
    this.before();
    if (!isFinite(f)) {
      this.w.string("null");
    } else if (f == Math.trunc(f) && Math.abs(f) < 1e15) {
      this.w.string((<i64>f).toString()); // 3, not AssemblyScript's 3.0
    } else {
      this.w.string(f.toString());
    }
    return this;
  }

  /** bool writes true or false. */
  bool(b: bool): JSONWriter {
    this.before();
    this.w.string(b ? "true" : "false");
    return this;
  }

  /** nullValue writes null. */
  nullValue(): JSONWriter {
    this.before();
    this.w.string("null");
    return this;
  }

  /** raw writes json, a complete JSON value, as it is. */
  raw(json: string): JSONWriter {
    this.before();
    this.w.string(json);
    return this;
  }

  /** stringMap writes an object of strings, members in m's order. */
  stringMap(m: Map<string, string>): JSONWriter {
    this.beginObject();
    const keys = m.keys();
    for (let i = 0; i < keys.length; i++) {
      this.key(keys[i]).string(m.get(keys[i]));
    }
    return this.endObject();
  }

  /** strings writes an array of strings. */
  strings(a: string[]): JSONWriter {
    this.beginArray();
    for (let i = 0; i < a.length; i++) this.string(a[i]);
    return this.endArray();
  }

  /** toString returns the document. */
  toString(): string {
    return this.w.toString();
  }

  /** toBuffer returns the document as UTF-8 bytes. */
  toBuffer(): ArrayBuffer {
    return this.w.toBuffer();
  }
}

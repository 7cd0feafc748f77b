// A small JSON reader: enough for a plugin's config (objects of strings,
// numbers, booleans, arrays and objects) and the host's HTTP responses.
// It parses RFC 8259 JSON from UTF-8 bytes into a tree of JSONValue;
// numbers keep the text they were written with, so integers keep every
// digit. Invalid UTF-8 and lone \u surrogates in strings become U+FFFD,
// as Go's encoding/json (and so hookd) does.

import { ByteWriter } from "./internal/bytes";
import { PdkError, Result } from "./errors";
import { errResult, okResult } from "./internal/results";
import { decodeUTF8, encodeUTF8 } from "./internal/utf8";
import { appendJSONString } from "./internal/jsonstring";

/** JSONKind is the type of a JSONValue. */
export enum JSONKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** The deepest nesting parsed: deeper input is refused rather than overflowing the stack. */
export const MAX_JSON_DEPTH = 512;

/**
 * JSONValue is one parsed JSON value. Read it with the as* methods, which
 * say what was there when it is not what the plugin expects, and, for an
 * object, get and keys; for an array, length and at.
 *
 *     const v = pdk.JSONValue.parse(`{"tags":["a","b"],"n":3}`);
 *     if (!v.ok) return pdk.fail(v.error!.message);
 *     const tags = v.value.get("tags")!.asStrings(); // Result<string[]>
 */
export class JSONValue {
  /** kind is the value's type. */
  kind: JSONKind = JSONKind.Null;
  private flag: bool = false;
  /** A string's value, or a number as written. */
  private text: string = "";
  /** An array's elements, or an object's member values. */
  private items: JSONValue[] | null = null;
  /** An object's member names, in order, parallel to items. */
  private names: string[] | null = null;

  /** parse parses one JSON value from text. */
  static parse(text: string): Result<JSONValue> {
    return JSONValue.parseBytes(encodeUTF8(text));
  }

  /** parseBytes parses one JSON value from UTF-8 bytes. */
  static parseBytes(b: ArrayBuffer): Result<JSONValue> {
    const p = new Parser(changetype<usize>(b), b.byteLength);
    const v = p.value(0);
    if (v === null) return errResult<JSONValue>(new PdkError(p.err));
    p.space();
    if (p.i < p.n) {
      return errResult<JSONValue>(new PdkError(p.fail("data after the JSON value")));
    }
    return okResult<JSONValue>(v);
  }

  static newNull(): JSONValue {
    return new JSONValue();
  }

  static newBool(b: bool): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Bool;
    v.flag = b;
    return v;
  }

  static newNumber(text: string): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Number;
    v.text = text;
    return v;
  }

  static newString(s: string): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.String;
    v.text = s;
    return v;
  }

  static newArray(items: JSONValue[]): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Array;
    v.items = items;
    return v;
  }

  static newObject(names: string[], values: JSONValue[]): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Object;
    v.names = names;
    v.items = values;
    return v;
  }

  /** isNull reports whether the value is null. */
  get isNull(): bool {
    return this.kind == JSONKind.Null;
  }

  /** describe says what the value is, for messages: "a string", "the number 3", "an array". */
  describe(): string {
    switch (this.kind) {
      case JSONKind.Null: return "null";
      case JSONKind.Bool: return "a boolean";
      case JSONKind.Number: return "the number " + this.text;
      case JSONKind.String: return "a string";
      case JSONKind.Array: return "an array";
    }
    return "an object";
  }

  private mismatch<T>(want: string): Result<T> {
    return errResult<T>(new PdkError("cannot use " + this.describe() + " as " + want));
  }

  /** asString returns a string's value. */
  asString(): Result<string> {
    if (this.kind != JSONKind.String) return this.mismatch<string>("string");
    return okResult<string>(this.text);
  }

  /** asBool returns a boolean's value. */
  asBool(): Result<bool> {
    if (this.kind != JSONKind.Bool) return this.mismatch<bool>("bool");
    return okResult<bool>(this.flag);
  }

  /** asF64 returns a number's value as the nearest f64. */
  asF64(): Result<f64> {
    if (this.kind != JSONKind.Number) return this.mismatch<f64>("f64");
    return okResult<f64>(parseFloat(this.text));
  }

  /** asI64 returns a number written as an integer that fits an i64 (not 1.0, not 1e3). */
  asI64(): Result<i64> {
    if (this.kind != JSONKind.Number) return this.mismatch<i64>("i64");
    const s = this.text;
    let i = 0;
    const neg = s.charCodeAt(0) == 45; // '-'
    if (neg) i = 1;
    let v: u64 = 0;
    const limit: u64 = neg ? 9223372036854775808 : 9223372036854775807;
    for (; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return this.mismatch<i64>("i64");
      if (v > (limit - <u64>d) / 10) return this.mismatch<i64>("i64");
      v = v * 10 + <u64>d;
    }
    return okResult<i64>(neg ? -(<i64>v) : <i64>v);
  }

  /** asArray returns an array's elements. */
  asArray(): Result<JSONValue[]> {
    if (this.kind != JSONKind.Array) return this.mismatch<JSONValue[]>("an array");
    return okResult<JSONValue[]>(this.items!.slice(0));
  }

  /** asStrings returns an array of strings; the error names the first element that is not one. */
  asStrings(): Result<string[]> {
    if (this.kind != JSONKind.Array) return this.mismatch<string[]>("string[]");
    const items = this.items!;
    const out = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      const e = items[i];
      if (e.kind != JSONKind.String) {
        return errResult<string[]>(new PdkError("[" + i.toString() + "]: cannot use " + e.describe() + " as string"));
      }
      out[i] = e.text;
    }
    return okResult<string[]>(out);
  }

  /** length is the number of elements of an array or members of an object; 0 for other values. */
  get length(): i32 {
    const items = this.items;
    return items === null ? 0 : items.length;
  }

  /** at returns element i of an array, or null. */
  at(i: i32): JSONValue | null {
    if (this.kind != JSONKind.Array || i < 0 || i >= this.items!.length) return null;
    return this.items![i];
  }

  /** get returns the member name of an object (the last one, if repeated), or null. */
  get(name: string): JSONValue | null {
    if (this.kind != JSONKind.Object) return null;
    const names = this.names!;
    for (let i = names.length - 1; i >= 0; i--) {
      if (names[i] == name) return this.items![i];
    }
    return null;
  }

  /** has reports whether an object has the member name. */
  has(name: string): bool {
    return this.get(name) !== null;
  }

  /** keys returns an object's member names in order (a copy); [] for other values. */
  keys(): string[] {
    const names = this.names;
    return names === null ? [] : names.slice(0);
  }

  /** toString writes the value as compact JSON, numbers as they were written. */
  toString(): string {
    const w = new ByteWriter();
    this.write(w);
    return w.toString();
  }

  /** write appends the value as compact JSON to w. */
  write(w: ByteWriter): void {
    switch (this.kind) {
      case JSONKind.Null: w.string("null"); return;
      case JSONKind.Bool: w.string(this.flag ? "true" : "false"); return;
      case JSONKind.Number: w.string(this.text); return;
      case JSONKind.String: appendJSONString(w, this.text); return;
    }
    const items = this.items!;
    const obj = this.kind == JSONKind.Object;
    w.byte(obj ? 0x7B : 0x5B);
    for (let i = 0; i < items.length; i++) {
      if (i > 0) w.byte(0x2C);
      if (obj) {
        appendJSONString(w, this.names![i]);
        w.byte(0x3A);
      }
      items[i].write(w);
    }
    w.byte(obj ? 0x7D : 0x5D);
  }
}

/** Parser reads JSON from n bytes at base. */
class Parser {
  i: i32 = 0;
  err: string = "";

  constructor(public base: usize, public n: i32) {}

  @inline at(i: i32): u32 {
    return <u32>load<u8>(this.base + <usize>i);
  }

  fail(msg: string): string {
    return "invalid JSON at offset " + this.i.toString() + ": " + msg;
  }

  /** bad records msg and returns null, the failure of value. */
  bad(msg: string): JSONValue | null {
    this.err = this.fail(msg);
    return null;
  }

  space(): void {
    while (this.i < this.n) {
      const c = this.at(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) return;
      this.i++;
    }
  }

  value(depth: i32): JSONValue | null {
    if (depth >= MAX_JSON_DEPTH) return this.bad("nested too deeply");
    this.space();
    if (this.i >= this.n) return this.bad("unexpected end");
    const c = this.at(this.i);
    if (c == 0x7B) return this.object(depth);
    if (c == 0x5B) return this.array(depth);
    if (c == 0x22) {
      const s = this.str();
      return s === null ? null : JSONValue.newString(s);
    }
    if (c == 0x2D || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) return JSONValue.newBool(true);
    if (this.literal("false")) return JSONValue.newBool(false);
    if (this.literal("null")) return JSONValue.newNull();
    return this.bad("unexpected character " + quoteChar(c));
  }

  literal(word: string): bool {
    const len = word.length;
    if (this.n - this.i < len) return false;
    for (let k = 0; k < len; k++) {
      if (this.at(this.i + k) != <u32>word.charCodeAt(k)) return false;
    }
    this.i += len;
    return true;
  }

  object(depth: i32): JSONValue | null {
    this.i++; // '{'
    const names = new Array<string>();
    const values = new Array<JSONValue>();
    this.space();
    if (this.i < this.n && this.at(this.i) == 0x7D) {
      this.i++;
      return JSONValue.newObject(names, values);
    }
    while (true) {
      this.space();
      if (this.i >= this.n || this.at(this.i) != 0x22) return this.bad("want a member name");
      const name = this.str();
      if (name === null) return null;
      this.space();
      if (this.i >= this.n || this.at(this.i) != 0x3A) return this.bad("want ':'");
      this.i++;
      const v = this.value(depth + 1);
      if (v === null) return null;
      names.push(name);
      values.push(v);
      const next = this.next(0x7D);
      if (next < 0) return null;
      if (next > 0) return JSONValue.newObject(names, values);
    }
  }

  array(depth: i32): JSONValue | null {
    this.i++; // '['
    const items = new Array<JSONValue>();
    this.space();
    if (this.i < this.n && this.at(this.i) == 0x5D) {
      this.i++;
      return JSONValue.newArray(items);
    }
    while (true) {
      const v = this.value(depth + 1);
      if (v === null) return null;
      items.push(v);
      const next = this.next(0x5D);
      if (next < 0) return null;
      if (next > 0) return JSONValue.newArray(items);
    }
  }

  /** next reads ',' (0) or end (1) after an element; -1 for anything else. */
  next(end: u32): i32 {
    this.space();
    if (this.i < this.n) {
      const c = this.at(this.i);
      if (c == 0x2C) {
        this.i++;
        return 0;
      }
      if (c == end) {
        this.i++;
        return 1;
      }
    }
    this.err = this.fail("want ',' or '" + String.fromCharCode(end) + "'");
    return -1;
  }

  digits(): i32 {
    let k = 0;
    while (this.i < this.n) {
      const c = this.at(this.i);
      if (c < 0x30 || c > 0x39) break;
      this.i++;
      k++;
    }
    return k;
  }

  number(): JSONValue | null {
    const start = this.i;
    if (this.at(this.i) == 0x2D) this.i++;
    if (this.i < this.n && this.at(this.i) == 0x30) {
      this.i++;
    } else if (this.digits() == 0) {
      return this.bad("bad number");
    }
    if (this.i < this.n && this.at(this.i) == 0x2E) {
      this.i++;
      if (this.digits() == 0) return this.bad("bad number");
    }
    if (this.i < this.n && (this.at(this.i) | 0x20) == 0x65) { // e or E
      this.i++;
      if (this.i < this.n && (this.at(this.i) == 0x2B || this.at(this.i) == 0x2D)) this.i++;
      if (this.digits() == 0) return this.bad("bad number");
    }
    return JSONValue.newNumber(decodeUTF8(this.base + <usize>start, this.i - start));
  }

  /** str reads a string at '"'; null (err set) when it is not valid. */
  str(): string | null {
    this.i++; // '"'
    const start = this.i;
    while (this.i < this.n) { // fast path: nothing to unescape
      const c = this.at(this.i);
      if (c == 0x22) {
        this.i++;
        return decodeUTF8(this.base + <usize>start, this.i - 1 - start);
      }
      if (c == 0x5C || c < 0x20) break;
      this.i++;
    }
    const w = new ByteWriter(this.i - start + 16);
    for (let k = start; k < this.i; k++) w.byte(<u8>this.at(k));
    while (this.i < this.n) {
      const c = this.at(this.i);
      if (c == 0x22) {
        this.i++;
        return decodeUTF8(w.ptr, w.length);
      }
      if (c < 0x20) {
        this.err = this.fail("control character in string");
        return null;
      }
      if (c != 0x5C) {
        w.byte(<u8>c);
        this.i++;
        continue;
      }
      if (this.i + 1 >= this.n) break;
      const e = this.at(this.i + 1);
      this.i += 2;
      switch (e) {
        case 0x22: w.byte(0x22); break;
        case 0x5C: w.byte(0x5C); break;
        case 0x2F: w.byte(0x2F); break;
        case 0x62: w.byte(0x08); break;
        case 0x66: w.byte(0x0C); break;
        case 0x6E: w.byte(0x0A); break;
        case 0x72: w.byte(0x0D); break;
        case 0x74: w.byte(0x09); break;
        case 0x75: {
          let r = this.hex4();
          if (r < 0) {
            this.err = this.fail("bad \\u escape");
            return null;
          }
          if (r >= 0xD800 && r < 0xDC00) {
            // a pair, when a low surrogate follows
            if (this.i + 1 < this.n && this.at(this.i) == 0x5C && this.at(this.i + 1) == 0x75) {
              const save = this.i;
              this.i += 2;
              const lo = this.hex4();
              if (lo >= 0xDC00 && lo < 0xE000) {
                r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
              } else {
                this.i = save;
                r = 0xFFFD;
              }
            } else {
              r = 0xFFFD;
            }
          } else if (r >= 0xDC00 && r < 0xE000) {
            r = 0xFFFD;
          }
          appendRune(w, <u32>r);
          break;
        }
        default:
          this.i -= 2;
          this.err = this.fail("bad escape");
          return null;
      }
    }
    this.err = this.fail("unexpected end of string");
    return null;
  }

  /** hex4 reads four hex digits, or returns -1. */
  hex4(): i32 {
    if (this.i + 4 > this.n) return -1;
    let r = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.at(this.i + k);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = <i32>c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = <i32>(c | 0x20) - 0x61 + 10;
      else return -1;
      r = (r << 4) | d;
    }
    this.i += 4;
    return r;
  }
}

/** appendRune appends code point r as UTF-8. */
function appendRune(w: ByteWriter, r: u32): void {
  if (r < 0x80) {
    w.byte(<u8>r);
  } else if (r < 0x800) {
    w.byte(<u8>(0xC0 | (r >> 6)));
    w.byte(<u8>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    w.byte(<u8>(0xE0 | (r >> 12)));
    w.byte(<u8>(0x80 | ((r >> 6) & 0x3F)));
    w.byte(<u8>(0x80 | (r & 0x3F)));
  } else {
    w.byte(<u8>(0xF0 | (r >> 18)));
    w.byte(<u8>(0x80 | ((r >> 12) & 0x3F)));
    w.byte(<u8>(0x80 | ((r >> 6) & 0x3F)));
    w.byte(<u8>(0x80 | (r & 0x3F)));
  }
}

function quoteChar(c: u32): string {
  if (c >= 0x20 && c < 0x7F) return "'" + String.fromCharCode(c) + "'";
  return "byte 0x" + c.toString(16);
}

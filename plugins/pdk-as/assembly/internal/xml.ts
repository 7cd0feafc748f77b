// XML for replies: escaping that is safe in text and in attributes, for
// the XMLMSG documents of reply.ts and the public helpers of xml.ts.

import { ByteWriter } from "./bytes";
import { utf8Length } from "./utf8";

/**
 * validXML returns s with the characters XML 1.0 cannot carry (control
 * characters other than tab, newline and carriage return; U+FFFE, U+FFFF;
 * lone surrogates) replaced by U+FFFD.
 */
export function validXMLText(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    if (badXMLAt(s, i) != 0) break;
  }
  if (i == n) return s;
  const w = new ByteWriter(n + 8);
  let start = 0;
  for (i = 0; i < n; i++) {
    const bad = badXMLAt(s, i);
    if (bad == 0) continue;
    if (bad == 2) { // a valid pair: keep both units
      i++;
      continue;
    }
    w.stringPart(s, start, i);
    w.byte(0xEF).byte(0xBF).byte(0xBD); // U+FFFD
    start = i + 1;
  }
  w.stringPart(s, start, n);
  return w.toString();
}

/** badXMLAt: 0 for a unit XML carries, 1 for one it cannot, 2 for the high half of a valid pair. */
function badXMLAt(s: string, i: i32): i32 {
  const c = s.charCodeAt(i);
  if (c < 0x20) return c == 0x09 || c == 0x0A || c == 0x0D ? 0 : 1;
  if (c < 0xD800) return 0;
  if (c < 0xDC00) { // high surrogate: valid only before a low one
    if (i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xDC00 && d < 0xE000) return 2;
    }
    return 1;
  }
  if (c < 0xE000) return 1; // a low surrogate alone
  return c == 0xFFFE || c == 0xFFFF ? 1 : 0;
}

/** appendEscaped escapes s, made valid by validXML, into w. */
export function appendEscaped(w: ByteWriter, s: string): void {
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let esc: string;
    switch (s.charCodeAt(i)) {
      case 0x22: esc = "&#34;"; break;
      case 0x27: esc = "&#39;"; break;
      case 0x26: esc = "&amp;"; break;
      case 0x3C: esc = "&lt;"; break;
      case 0x3E: esc = "&gt;"; break;
      case 0x09: esc = "&#x9;"; break;
      case 0x0A: esc = "&#xA;"; break;
      case 0x0D: esc = "&#xD;"; break;
      default: continue;
    }
    w.stringPart(s, start, i);
    w.string(esc);
    start = i + 1;
  }
  w.stringPart(s, start, n);
}

/** appendAttr writes ` name="value"`, value escaped. */
export function appendAttr(w: ByteWriter, name: string, value: string): void {
  w.byte(0x20).string(name).byte(0x3D).byte(0x22);
  appendEscaped(w, value);
  w.byte(0x22);
}

/** appendElem writes <name>text</name>, text escaped. */
export function appendElem(w: ByteWriter, name: string, text: string): void {
  w.byte(0x3C).string(name).byte(0x3E);
  appendEscaped(w, text);
  w.byte(0x3C).byte(0x2F).string(name).byte(0x3E);
}

/** xmlTrim removes XML white space (space, tab, CR, LF) from both ends, as hookd does before checking values. */
export function xmlTrim(s: string): string {
  let a = 0, b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return a == 0 && b == s.length ? s : s.substring(a, b);
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D;
}

/** trimmedBytes is the UTF-8 length of s without surrounding XML white space. */
export function trimmedBytes(s: string): i32 {
  return utf8Length(xmlTrim(s));
}

/** quote writes s in double quotes, escaping quotes, backslashes and control characters, for messages. */
export function quoteText(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5C) out += "\\\\";
    else if (c == 0x0A) out += "\\n";
    else if (c == 0x09) out += "\\t";
    else if (c == 0x0D) out += "\\r";
    else if (c < 0x20) out += "\\x" + (c < 16 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

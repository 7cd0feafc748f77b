// IP addresses and prefixes, parsed as Go's net/netip parses them (the Go
// version of this plugin uses it): IPv4 in dotted decimal without leading
// zeros, IPv6 with "::" and an embedded IPv4 tail, zones dropped, and
// IPv4-mapped IPv6 addresses read as IPv4 where the plugin asks.

/** An IPv4 or IPv6 address: 16 bytes, IPv4 as ::ffff:a.b.c.d with is4 set. */
export class Addr {
  constructor(public b: Uint8Array, public is4: bool) {}

  /** bitLen is 32 or 128. */
  get bitLen(): i32 {
    return this.is4 ? 32 : 128;
  }

  /** isMapped reports an IPv6 address of the form ::ffff:a.b.c.d. */
  get isMapped(): bool {
    if (this.is4) return false;
    for (let i = 0; i < 10; i++) if (this.b[i] != 0) return false;
    return this.b[10] == 0xff && this.b[11] == 0xff;
  }

  /** unmap returns an IPv4-mapped IPv6 address as IPv4, others as they are. */
  unmap(): Addr {
    return this.isMapped ? new Addr(this.b, true) : this;
  }

  /** bit returns bit i (0 = the most significant) of the address. */
  bit(i: i32): i32 {
    const off = this.is4 ? 12 : 0;
    return (<i32>this.b[off + (i >> 3)] >> (7 - (i & 7))) & 1;
  }

  /** toString writes the address as Go's netip does (RFC 5952 for IPv6). */
  toString(): string {
    const b = this.b;
    if (this.is4) {
      return b[12].toString() + "." + b[13].toString() + "." + b[14].toString() + "." + b[15].toString();
    }
    // the longest run of two or more zero groups becomes "::"
    let bestAt = -1, bestLen = 0;
    for (let g = 0; g < 8; ) {
      let n = 0;
      while (g + n < 8 && b[2 * (g + n)] == 0 && b[2 * (g + n) + 1] == 0) n++;
      if (n > bestLen && n >= 2) {
        bestAt = g;
        bestLen = n;
      }
      g += n > 0 ? n : 1;
    }
    let s = "";
    for (let g = 0; g < 8; g++) {
      if (g == bestAt) {
        s += "::";
        g += bestLen - 1;
        continue;
      }
      if (s.length > 0 && !s.endsWith(":")) s += ":";
      s += ((<u32>b[2 * g] << 8) | <u32>b[2 * g + 1]).toString(16);
    }
    return s;
  }
}

/** A network: an address with host bits zero and the length of the network part. */
export class Prefix {
  constructor(public addr: Addr, public bits: i32) {}

  /** contains reports whether a (of the same family) is in the network. */
  contains(a: Addr): bool {
    if (a.is4 != this.addr.is4) return false;
    for (let i = 0; i < this.bits; i++) {
      if (a.bit(i) != this.addr.bit(i)) return false;
    }
    return true;
  }

  toString(): string {
    return this.addr.toString() + "/" + this.bits.toString();
  }
}

/** Why the last parse returned null. */
export let parseError = "";

/** setParseError sets parseError, for checks made outside this module. */
export function setParseError(msg: string): void {
  parseError = msg;
}

function bad<T>(msg: string): T | null {
  parseError = msg;
  return null;
}

function no(msg: string): bool {
  parseError = msg;
  return false;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** parseAddr parses an IPv4 or IPv6 address; a zone ("%eth0") is dropped. */
export function parseAddr(s: string): Addr | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x2E) return parse4(s); // '.'
    if (c == 0x3A) return parse6(s); // ':'
  }
  return bad<Addr>("unable to parse IP");
}

function parse4(s: string): Addr | null {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  if (!parse4Into(s, b, 12)) return null;
  return new Addr(b, true);
}

function parse4Into(s: string, b: Uint8Array, at: i32): bool {
  let field = 0, val = 0, digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (digits == 1 && val == 0) return no("IPv4 field has octet with leading zero");
      val = val * 10 + (c - 0x30);
      digits++;
      if (val > 255) return no("IPv4 field has value >255");
    } else if (c == 0x2E) {
      if (digits == 0) return no("IPv4 field must have at least one digit");
      if (field == 3) return no("IPv4 address too long");
      b[at + field] = <u8>val;
      field++;
      val = 0;
      digits = 0;
    } else {
      return no("unexpected character");
    }
  }
  if (digits == 0) return no("IPv4 field must have at least one digit");
  if (field != 3) return no("IPv4 address too short");
  b[at + 3] = <u8>val;
  return true;
}

function parse6(in6: string): Addr | null {
  let s = in6;
  const pct = s.indexOf("%");
  if (pct >= 0) {
    if (pct == s.length - 1) return bad<Addr>("zone must be a non-empty string");
    s = s.substring(0, pct);
  }
  const b = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0, o = 0;
  const n = s.length;
  if (n >= 2 && s.charCodeAt(0) == 0x3A && s.charCodeAt(1) == 0x3A) {
    ellipsis = 0;
    i = 2;
    if (i == n) return new Addr(b, false);
  }
  while (o < 16) {
    const off = i;
    let acc = 0;
    while (i < n) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      if (i - off == 4) return bad<Addr>("IPv6 field has value >=2^16");
      acc = (acc << 4) | h;
      i++;
    }
    if (i == off) return bad<Addr>("each colon-separated field must have at least one digit");
    if (i < n && s.charCodeAt(i) == 0x2E) {
      if (ellipsis < 0 && o != 12) return bad<Addr>("embedded IPv4 address must replace the final 2 fields of the address");
      if (o + 4 > 16) return bad<Addr>("too many hex fields to fit an embedded IPv4 at the end of the address");
      if (!parse4Into(s.substring(off), b, o)) return null;
      o += 4;
      i = n;
      break;
    }
    b[o] = <u8>(acc >> 8);
    b[o + 1] = <u8>acc;
    o += 2;
    if (i == n) break;
    if (s.charCodeAt(i) != 0x3A) return bad<Addr>("unexpected character, want colon");
    if (i + 1 == n) return bad<Addr>("colon must be followed by more characters");
    i++;
    if (s.charCodeAt(i) == 0x3A) {
      if (ellipsis >= 0) return bad<Addr>("multiple :: in address");
      ellipsis = o;
      i++;
      if (i == n) break;
    }
  }
  if (i != n) return bad<Addr>("trailing garbage after address");
  if (o < 16) {
    if (ellipsis < 0) return bad<Addr>("address string too short");
    const shift = 16 - o;
    for (let k = o - 1; k >= ellipsis; k--) b[k + shift] = b[k];
    for (let k = ellipsis; k < ellipsis + shift; k++) b[k] = 0;
  } else if (ellipsis >= 0) {
    return bad<Addr>("the :: must expand to at least one field of zeros");
  }
  return new Addr(b, false);
}

/**
 * parseAddrPort parses "10.0.0.1:5000" or "[2001:db8::1]:443" and returns
 * the address; the port must be a decimal number up to 65535.
 */
export function parseAddrPort(s: string): Addr | null {
  const colon = s.lastIndexOf(":");
  if (colon < 0) return bad<Addr>("not an ip:port");
  let host = s.substring(0, colon);
  const port = s.substring(colon + 1);
  if (port.length == 0 || port.length > 5) return bad<Addr>("invalid port");
  let p = 0;
  for (let i = 0; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (!isDigit(c)) return bad<Addr>("invalid port");
    p = p * 10 + (c - 0x30);
  }
  if (p > 65535) return bad<Addr>("invalid port");
  const bracketed = host.startsWith("[") && host.endsWith("]");
  if (bracketed) host = host.substring(1, host.length - 1);
  const a = parseAddr(host);
  if (a === null) return null;
  if (bracketed && a.is4) return bad<Addr>("square brackets can only be used with IPv6 addresses");
  if (!bracketed && !a.is4) return bad<Addr>("IPv6 addresses must be surrounded by square brackets");
  return a;
}

/**
 * parsePrefix parses "10.0.0.0/8" (no zone); bits are decimal, at most the
 * address's length. It does not check host bits: see Prefix.masked.
 */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.lastIndexOf("/");
  if (slash < 0) return bad<Prefix>("no '/'");
  const addrText = s.substring(0, slash);
  if (addrText.includes("%")) return bad<Prefix>("IPv6 zones cannot be present in a prefix");
  const a = parseAddr(addrText);
  if (a === null) return null;
  const bitsText = s.substring(slash + 1);
  if (bitsText.length == 0 || bitsText.length > 3 || (bitsText.length > 1 && bitsText.charCodeAt(0) == 0x30)) {
    return bad<Prefix>("bad bits after slash: \"" + bitsText + "\"");
  }
  let bits = 0;
  for (let i = 0; i < bitsText.length; i++) {
    const c = bitsText.charCodeAt(i);
    if (!isDigit(c)) return bad<Prefix>("bad bits after slash: \"" + bitsText + "\"");
    bits = bits * 10 + (c - 0x30);
  }
  if (bits > a.bitLen) return bad<Prefix>("prefix length out of range");
  return new Prefix(a, bits);
}

/** masked reports whether p's address has no bit set past its length. */
export function masked(p: Prefix): bool {
  for (let i = p.bits; i < p.addr.bitLen; i++) {
    if (p.addr.bit(i) != 0) return false;
  }
  return true;
}

import { ByteWriter } from "./internal/bytes";
import { appendEscaped, quoteText, validXMLText } from "./internal/xml";

/**
 * validXML returns s with the characters XML 1.0 cannot carry (control
 * characters other than tab, newline and carriage return; U+FFFE, U+FFFF;
 * lone surrogates) replaced by U+FFFD.
 */
export function validXML(s: string): string {
  return validXMLText(s);
}

/**
 * xmlEscape escapes s for XML text or an attribute value, as Go's
 * xml.EscapeText does: the five markup characters, and tab, newline and
 * carriage return as character references (so that attribute
 * normalisation keeps them); characters XML cannot carry become U+FFFD.
 *
 *     pdk.xml(`<module><islLight><session id="` + pdk.xmlEscape(id) + `">…`);
 */
export function xmlEscape(s: string): string {
  const w = new ByteWriter(s.length + 16);
  appendEscaped(w, validXMLText(s));
  return w.toString();
}

/**
 * quote writes s in double quotes, with quotes, backslashes and control
 * characters escaped: for messages that name a value, as Go's
 * strconv.Quote is used.
 *
 *     pdk.log(pdk.Level.Warn, field + " " + pdk.quote(value) + " is not an IP address");
 */
export function quote(s: string): string {
  return quoteText(s);
}

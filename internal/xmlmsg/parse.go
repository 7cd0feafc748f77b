package xmlmsg

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Limits of a reply. A script answers one event with a few commands; these
// bounds are far above that and keep a misbehaving or hostile script from
// costing more than a few hundred microseconds of parsing.
const (
	// MaxReply is the largest body Parse accepts, in bytes. Callers read
	// at most MaxReply+1 bytes of the response, so that a longer body is
	// refused without being read in full:
	//
	//	body, err := io.ReadAll(io.LimitReader(resp.Body, xmlmsg.MaxReply+1))
	MaxReply = 64 << 10

	// MaxDepth bounds element nesting, the root being depth 1. A valid
	// reply needs 5 (module, islLight, session, send, message).
	MaxDepth = 32

	// MaxCommands bounds the commands of a reply, unknown elements and
	// attributes (the entries of Reply.Unknown) included.
	MaxCommands = 100

	// MaxMessage bounds the text of one message, in bytes after trimming.
	MaxMessage = 4 << 10

	// maxShort bounds session ids, chat labels and the secret, in bytes.
	maxShort = 256
)

var utf8BOM = []byte("\xef\xbb\xbf")

// errTooLong is allocated once: refusing an oversized body costs nothing,
// however often a misbehaving script sends one.
var errTooLong = errorf(ErrTooLarge, "reply has more than %d bytes (MaxReply); a strict script must answer short XML: <nomessage/> or an XMLMSG <module> document", MaxReply)

// Parse parses and checks the body of an HTTP-event script's answer as
// <nomessage/> or an XMLMSG document of the commands this package knows.
// It returns a [Reply] when it is one, and an error wrapping [ErrNotXML],
// [ErrDTD], [ErrTooLarge] or [ErrNotXMLMSG] otherwise. Whether a delivery
// is acknowledged is [Judge]'s rule, not Parse's: well-formed XML that
// Parse refuses with ErrNotXMLMSG still acknowledges.
//
//	r, err := xmlmsg.Parse(body)
//	if err != nil {
//		return fmt.Errorf("script reply: %w", err)
//	}
//	if doc := r.Document(); doc != nil {
//		// POST doc as text/xml to the proxy's XMLMSG endpoint
//	}
//
// # Notes
//
//   - A UTF-8 byte order mark, an XML declaration, comments, processing
//     instructions and whitespace around the root element are accepted.
//     UTF-8 is expected; a declared ISO-8859-1, US-ASCII or windows-1252
//     encoding is converted.
//   - No DTD is processed and no entity is expanded: any <!DOCTYPE> is
//     refused (ErrDTD), and an entity other than the five predefined ones
//     and character references is an error (ErrNotXML).
//   - Element and attribute names are case-sensitive and must not be in a
//     namespace. Values and text are trimmed of surrounding whitespace.
//   - Unknown elements and attributes are recorded in Reply.Unknown and
//     skipped; a malformed known element is an error.
//   - Parse does not retain body and is safe for concurrent use.
func Parse(body []byte) (*Reply, error) {
	if len(body) > MaxReply {
		return nil, errTooLong
	}
	p := newParser(body)
	if p == nil {
		return nil, emptyOrUTF16(body)
	}
	if err := p.document(); err != nil {
		return nil, err
	}
	return p.r, nil
}

// parser walks the token stream of one reply. Every token goes through
// [parser.token], which enforces the limits and refuses DTDs wherever they
// appear, including inside skipped elements.
type parser struct {
	d      *xml.Decoder
	body   []byte // for excerpts in errors
	depth  int
	at     int  // line where the last token starts
	markup bool // a token other than whitespace was read
	r      *Reply
}

const xmlSpace = " \t\r\n"

func isSpace(b []byte) bool { return len(bytes.Trim(b, xmlSpace)) == 0 }

func trim(s string) string { return strings.Trim(s, xmlSpace) }

// textLine is the line where the first non-whitespace character of t is.
func (p *parser) textLine(t xml.CharData) int {
	i := bytes.IndexFunc(t, func(r rune) bool { return !strings.ContainsRune(xmlSpace, r) })
	if i < 0 {
		return p.at
	}
	return p.at + bytes.Count(t[:i], []byte("\n"))
}

// document parses the prolog, the root element and what follows it.
func (p *parser) document() error {
	root, err := p.prolog()
	if err != nil {
		return err
	}
	line := p.at
	switch root.Name {
	case xml.Name{Local: "nomessage"}:
		err = p.nomessage(root, line)
	case xml.Name{Local: "module"}:
		err = p.module(root, line)
	default:
		return errorf(ErrNotXMLMSG, "root element %s is not <nomessage/> or <module>", tag(root.Name))
	}
	if err != nil {
		return err
	}
	return p.epilog(root.Name)
}

// prolog returns the root element, after an optional XML declaration,
// comments, processing instructions and whitespace.
func (p *parser) prolog() (xml.StartElement, error) {
	for {
		tok, err := p.token()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, errorf(ErrNotXML, "body has no root element; a strict script must answer XML: <nomessage/> when there is nothing to do")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if !isSpace(t) {
				return xml.StartElement{}, errorf(ErrNotXML, "body is not XML: %s", excerpt(p.body))
			}
		}
	}
}

// epilog accepts only whitespace, comments and processing instructions
// after the root element.
func (p *parser) epilog(root xml.Name) error {
	for {
		tok, err := p.token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return errorf(ErrNotXML, "line %d: second root element %s after </%s>; a reply has exactly one root element", p.at, tag(t.Name), root.Local)
		case xml.CharData:
			if !isSpace(t) {
				return errorf(ErrNotXML, "line %d: trailing content after </%s>: %s", p.textLine(t), root.Local, excerpt(bytes.Trim(t, xmlSpace)))
			}
		}
	}
}

// token returns the next token, or io.EOF at the end of a well-formed
// body. It refuses what encoding/xml lets through: directives (DTDs),
// elements nested deeper than MaxDepth, duplicate attributes, and an XML
// declaration that does not come first (which would switch the encoding
// in the middle of the body).
func (p *parser) token() (xml.Token, error) {
	p.at, _ = p.d.InputPos()
	tok, err := p.d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, p.syntaxError(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		p.depth++
		if p.depth > MaxDepth {
			return nil, errorf(ErrTooLarge, "line %d: elements are nested more than %d deep (MaxDepth)", p.at, MaxDepth)
		}
		if dup, ok := duplicateAttr(t.Attr); ok {
			return nil, errorf(ErrNotXML, "line %d: attribute %s appears twice in %s", p.at, attrName(dup), tag(t.Name))
		}
	case xml.EndElement:
		p.depth--
	case xml.ProcInst:
		if t.Target == "xml" && p.markup {
			return nil, errorf(ErrNotXML, "line %d: the XML declaration must come first", p.at)
		}
	case xml.CharData:
		if isSpace(t) {
			return tok, nil // leading whitespace does not count as markup
		}
	case xml.Directive:
		return nil, errorf(ErrDTD, "line %d: DTDs are not allowed, found %s", p.at, excerpt("<!"+string(t)+">"))
	}
	p.markup = true
	return tok, nil
}

// duplicateAttr reports an attribute given twice, which XML forbids and
// encoding/xml does not check. A map is used only for elements with many
// attributes, so that 10,000 of them cost linear time.
func duplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	if len(attrs) <= 8 {
		for i := 1; i < len(attrs); i++ {
			for j := range i {
				if attrs[i].Name == attrs[j].Name {
					return attrs[i].Name, true
				}
			}
		}
		return xml.Name{}, false
	}
	seen := make(map[xml.Name]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.Name] {
			return a.Name, true
		}
		seen[a.Name] = true
	}
	return xml.Name{}, false
}

// syntaxError turns an encoding/xml error into one that says what is wrong
// and shows the start of the body, which is usually enough to recognise an
// HTML error page or a PHP warning.
func (p *parser) syntaxError(err error) error {
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		if ent, ok := strings.CutPrefix(se.Msg, "invalid character entity "); ok && strings.HasSuffix(ent, ";") {
			return wrapf(ErrNotXML, err, "body is not XML (line %d): entity %s is undefined; only &amp; &lt; &gt; &quot; &apos; and character references are allowed", se.Line, ent)
		}
		return wrapf(ErrNotXML, err, "body is not XML (line %d: %s): %s", se.Line, se.Msg, excerpt(p.body))
	case errors.Is(err, errCharset):
		var ce *replyError
		errors.As(err, &ce)
		return wrapf(ErrNotXML, err, "%s", ce.msg)
	default:
		msg := strings.TrimPrefix(err.Error(), "xml: ")
		return wrapf(ErrNotXML, err, "body is not XML (%s): %s", msg, excerpt(p.body))
	}
}

// tag prints an element name as it appears in the reply; a namespace,
// which never matches a known name, is shown as an xmlns attribute. Long
// names are cut, so that Reply.Unknown and errors stay one short line.
func tag(n xml.Name) string {
	if n.Space == "" {
		return "<" + cutName(n.Local) + ">"
	}
	return "<" + cutName(n.Local) + " xmlns=" + quoteCut(n.Space, excerptLen) + ">"
}

func attrName(n xml.Name) string {
	if n.Space == "" {
		return cutName(n.Local)
	}
	return cutName(n.Space + ":" + n.Local)
}

// cutName shortens an XML name, which holds no quote or control character
// and needs no quoting, to excerptLen bytes.
func cutName(s string) string {
	if c := cut(s, excerptLen); len(c) < len(s) {
		return c + "…"
	}
	return s
}

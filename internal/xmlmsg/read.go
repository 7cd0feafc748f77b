package xmlmsg

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file holds the reading helpers of the walker in walk.go: content
// models (children, text, empty), attributes, the record of unknown items
// and the limits on them.

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// add appends a known command, within MaxCommands.
func (p *parser) add(c Command, line int) error {
	if err := p.checkCount(line); err != nil {
		return err
	}
	p.r.Commands = append(p.r.Commands, c)
	return nil
}

// checkCount bounds Commands and Unknown together, so that neither a
// flood of commands nor one of unknown elements grows a Reply (and the
// session record it is saved in) without limit.
func (p *parser) checkCount(line int) error {
	if len(p.r.Commands)+len(p.r.Unknown) >= MaxCommands {
		return errorf(ErrTooLarge, "line %d: more than %d commands (MaxCommands, unknown elements and attributes included)", line, MaxCommands)
	}
	return nil
}

// skipUnknown records an unknown element and skips its content.
func (p *parser) skipUnknown(what string) error {
	line := p.at
	if err := p.checkCount(line); err != nil {
		return err
	}
	p.r.Unknown = append(p.r.Unknown, what)
	for depth := 1; depth > 0; {
		tok, err := p.token()
		if err != nil {
			return p.unexpectedEOF(err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// children reads the content of an element whose start was just read,
// calling fn for each child element (fn must consume it, end included).
// Text other than whitespace is an error: these elements hold elements.
func (p *parser) children(where string, fn func(c xml.StartElement, line int) error) (n int, err error) {
	for {
		tok, err := p.token()
		if err != nil {
			return n, p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n++
			if err := fn(t, p.at); err != nil {
				return n, err
			}
		case xml.EndElement:
			return n, nil
		case xml.CharData:
			if !isSpace(t) {
				return n, errorf(ErrNotXMLMSG, "line %d: unexpected text %s in %s; only elements belong there", p.textLine(t), excerpt(trim(string(t))), where)
			}
		}
	}
}

// text reads the content of a field element: text (CDATA and character
// references included, comments ignored), trimmed, with no child element.
//
// encoding/xml has already refused characters XML cannot carry, literal or
// as character references (&#0;, &#xFFFE;), so Reply.Document can forward
// the text faithfully; FuzzParse checks that round trip.
func (p *parser) text(start xml.StartElement, where string) (string, error) {
	if err := p.unknownAttrs(start, nil, where); err != nil {
		return "", err
	}
	var b strings.Builder
	for {
		tok, err := p.token()
		if err != nil {
			return "", p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return "", errorf(ErrNotXMLMSG, "line %d: %s must hold text only, found %s", p.at, where, tag(t.Name))
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return trim(b.String()), nil
		}
	}
}

// empty reads the content of an element that must be empty (whitespace
// and comments aside).
func (p *parser) empty(where string, line int) error {
	for {
		tok, err := p.token()
		if err != nil {
			return p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return errorf(ErrNotXMLMSG, "line %d: %s must be empty, found %s", line, where, tag(t.Name))
		case xml.CharData:
			if !isSpace(t) {
				return errorf(ErrNotXMLMSG, "line %d: %s must be empty, found text %s", line, where, excerpt(trim(string(t))))
			}
		case xml.EndElement:
			return nil
		}
	}
}

// attr returns the trimmed value of the un-namespaced attribute name.
func attr(start xml.StartElement, name string) (string, bool) {
	for _, a := range start.Attr {
		if a.Name == (xml.Name{Local: name}) {
			return trim(a.Value), true
		}
	}
	return "", false
}

// attrs returns the trimmed values of the known attributes (empty when
// absent) and records the others as unknown.
func (p *parser) attrs(start xml.StartElement, where string, known ...string) ([]string, error) {
	vals := make([]string, len(known))
	for i, name := range known {
		vals[i], _ = attr(start, name)
	}
	if err := p.unknownAttrs(start, known, where); err != nil {
		return nil, err
	}
	return vals, nil
}

// unknownAttrs records the attributes of start not in known, namespace
// declarations aside.
func (p *parser) unknownAttrs(start xml.StartElement, known []string, where string) error {
	for _, a := range start.Attr {
		if a.Name.Space == "" && indexOf(known, a.Name.Local) >= 0 ||
			a.Name.Space == "xmlns" || a.Name == (xml.Name{Local: "xmlns"}) {
			continue
		}
		if err := p.checkCount(p.at); err != nil {
			return err
		}
		p.r.Unknown = append(p.r.Unknown, fmt.Sprintf("%s: unknown attribute %s on %s", where, attrName(a.Name), tag(start.Name)))
	}
	return nil
}

// unexpectedEOF turns io.EOF inside an element into an error. encoding/xml
// in strict mode reports an unclosed element as a syntax error itself; this
// only keeps a bare io.EOF from ever reading as success.
func (p *parser) unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return errorf(ErrNotXML, "body is not XML (unexpected end): %s", excerpt(p.body))
	}
	return err
}

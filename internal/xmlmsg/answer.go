package xmlmsg

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxDocument bounds the XMLMSG document an [Answer] forwards, in bytes
// after re-encoding. It leaves room in the command event (whose fields
// hookd bounds to 64 KiB) for the fields that say where it came from.
const MaxDocument = MaxReply - 2<<10

// Answer is the answer of an HTTP-event script (or of a plugin standing
// in for one) read the way ISL Conference Proxy reads it: any well-formed
// XML acknowledges the event; an XMLMSG document (root <module>) is
// forwarded to the proxy whole, every element and attribute of it, for
// the proxy to execute or refuse; anything else is acknowledged and
// nothing is executed. Make one with [ReadAnswer].
//
// An Answer holds the database secret inside its document. It prints as
// its [Answer.Summary], which never shows it.
type Answer struct {
	// Reply holds what hookd recognises of the answer: <nomessage/>, or
	// the islLight session commands it checked (for summaries and session
	// records). It is nil when the answer is not an XMLMSG document, and
	// when the document is forwarded unchecked (see Unchecked).
	Reply *Reply

	// NotXMLMSG says why a well-formed answer is not an XMLMSG document
	// (e.g. `root element <result> is not <nomessage/> or <module>`):
	// the event is acknowledged and nothing is executed. Empty when the
	// answer is <nomessage/> or a <module> document.
	NotXMLMSG string

	// Unchecked says why hookd could not check a <module> document that
	// it forwards anyway (e.g. `line 3: session "5a1b": <send to="client">
	// needs a non-empty <message>`): the proxy decides what to make of it.
	Unchecked string

	// Left counts elements and attributes in an XML namespace, which no
	// XMLMSG command has, left out of the forwarded document.
	Left int

	doc []byte
}

// ReadAnswer reads a script's answer body. It returns an error only for a
// body that is not one well-formed XML document ([ErrNotXML]), has a DTD
// ([ErrDTD]) or is over a limit ([ErrTooLarge]: [MaxReply], [MaxDepth],
// and for a <module> document [MaxCommands], [MaxMessage] and
// [MaxDocument]); a strict delivery is not acknowledged then.
//
//	a, err := xmlmsg.ReadAnswer(body)
//	if err != nil {
//		return err // strict: not acknowledged, retried
//	}
//	log.Info("script answered", "answer", a) // a.Summary(), never the secret
//	if doc := a.Document(); doc != nil {
//		// POST doc as text/xml to the proxy's XMLMSG endpoint
//	}
//
// # Why every XMLMSG command is forwarded
//
// The proxy's documentation asks a strict script for "valid XML content"
// and executes the XMLMSG it gets; its XMLMSG interface knows many more
// commands than the islLight session commands hookd recognises. hookd is
// not the judge of what the proxy may do: the document's elements,
// attributes and text go on, every value escaped again and nothing else
// (comments, processing instructions, namespaced items) copied through,
// and the proxy checks the database secret as it does for any XMLMSG.
// What hookd recognises it still checks, so that the operator reads
// "drop 5a1d" in the delivery log, or why it could not check a command.
func ReadAnswer(body []byte) (*Answer, error) {
	c, err := copyDocument(body)
	if err != nil {
		return nil, err
	}
	a := &Answer{Left: c.left}
	if c.root.Space != "" || c.root.Local != "nomessage" && c.root.Local != "module" {
		a.NotXMLMSG = fmt.Sprintf("root element %s is not <nomessage/> or <module>", tag(c.root))
		return a, nil
	}
	r, err := Parse(body)
	switch {
	case err == nil:
		a.Reply = r
	case !errors.Is(err, ErrNotXMLMSG):
		return nil, err // a limit of the checked commands: bounded as ever
	case c.root.Local == "nomessage":
		a.NotXMLMSG = err.Error() // <nomessage> with content
		return a, nil
	default:
		a.Unchecked = err.Error()
	}
	if c.root.Local == "module" && c.children > 0 {
		if len(c.out) > MaxDocument {
			return nil, errorf(ErrTooLarge, "the XMLMSG document to forward is %d bytes re-encoded; at most %d are allowed (MaxDocument)", len(c.out), MaxDocument)
		}
		a.doc = c.out
	}
	return a, nil
}

// Document returns the XMLMSG document to POST as text/xml to the proxy's
// XMLMSG endpoint: the answer's <module> element re-encoded as UTF-8, or
// nil when there is nothing to forward (<nomessage/>, an answer that is
// not XMLMSG, a <module> without any element to forward).
func (a *Answer) Document() []byte {
	if a == nil {
		return nil
	}
	return a.doc
}

// Executes reports whether the answer is an XMLMSG document forwarded to
// the proxy.
func (a *Answer) Executes() bool { return a.Document() != nil }

// Summary describes the answer in one short line for the delivery log
// and session records, without the secret or any message text:
//
//	nomessage
//	xmlmsg: msgbox 5a1b; chat 5a1c; drop 5a1d
//	xmlmsg: drop 5a1d; +1 unknown to hookd, forwarded
//	xmlmsg forwarded unchecked: line 1: session "5a1b": <send to="client"> needs a non-empty <message>
//	acknowledged: XML not an XMLMSG document, nothing executed (root element <result> is not <nomessage/> or <module>)
func (a *Answer) Summary() string {
	var s string
	switch {
	case a == nil:
		return "<nil>"
	case a.NotXMLMSG != "":
		return "acknowledged: XML not an XMLMSG document, nothing executed (" + a.NotXMLMSG + ")"
	case a.Unchecked != "" && a.doc != nil:
		s = "xmlmsg forwarded unchecked: " + a.Unchecked
	case a.Unchecked != "":
		s = "xmlmsg: nothing to forward (" + a.Unchecked + ")"
	case a.Reply.NoMessage:
		s = "nomessage"
		if n := len(a.Reply.Unknown); n > 0 {
			s += "; +" + strconv.Itoa(n) + " unknown"
		}
	case a.doc == nil:
		s = "xmlmsg: nothing to forward"
	default:
		s = "xmlmsg: " + commandList(a.Reply.Commands)
		if n := len(a.Reply.Unknown); n > 0 {
			if len(a.Reply.Commands) == 0 {
				s = "xmlmsg: " + strconv.Itoa(n) + " unknown to hookd, forwarded"
			} else {
				s += "; +" + strconv.Itoa(n) + " unknown to hookd, forwarded"
			}
		}
	}
	if a.Left > 0 {
		s += "; " + strconv.Itoa(a.Left) + " namespaced left out"
	}
	return s
}

// String returns [Answer.Summary].
func (a *Answer) String() string { return a.Summary() }

// GoString returns the Summary too, so that %#v never prints the secret.
func (a *Answer) GoString() string { return "xmlmsg.Answer(" + strconv.Quote(a.Summary()) + ")" }

// Judge says what a script's or a plugin's 2xx answer body means for the
// delivery: the one rule for both, so that a plugin's answer means what a
// script's reply means. Any well-formed XML acknowledges ([ReadAnswer]);
// commands is the XMLMSG document to forward, if any, and summary what
// the attempt record shows. A body that is not well-formed XML (or has a
// DTD, or is over a limit) fails a strict delivery (err, to be retried)
// and is acknowledged without effect otherwise.
func Judge(body []byte, strict bool) (summary string, commands []byte, err error) {
	a, err := ReadAnswer(body)
	switch {
	case err == nil:
		return a.Summary(), a.Document(), nil
	case strict:
		return "", nil, err
	case errors.Is(err, ErrNotXML) && len(bytes.Trim(bytes.TrimPrefix(body, utf8BOM), xmlSpace)) == 0:
		return "empty reply (not strict: accepted)", nil, nil
	case errors.Is(err, ErrNotXML):
		return "reply not XML (not strict: ignored)", nil, nil
	default:
		return "reply refused (not strict: ignored): " + err.Error(), nil, nil
	}
}

// copied is a well-formed answer: its root element and, when the root is
// a <module>, the document to forward.
type copied struct {
	root     xml.Name
	children int // child elements of the root
	left     int // namespaced elements and attributes left out
	out      []byte
}

// copyDocument checks that body is one well-formed XML document within
// the limits (the checks of [Parse] up to its root element's name) and
// re-encodes its root element: elements, attributes and text, escaped
// again; comments, processing instructions and everything in an XML
// namespace left out.
func copyDocument(body []byte) (*copied, error) {
	if len(body) > MaxReply {
		return nil, errTooLong
	}
	p := newParser(body)
	if p == nil {
		return nil, emptyOrUTF16(body)
	}
	root, err := p.prolog()
	if err != nil {
		return nil, err
	}
	c := &copied{root: root.Name}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	skip := 0     // depth inside a left-out (namespaced) element
	open := false // a start tag is written but not closed: "/>" may end it
	c.writeStart(&b, root)
	open = true
	for p.depth > 0 {
		tok, err := p.token()
		if err != nil {
			return nil, p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if p.depth == 2 && t.Name.Space == "" {
				c.children++ // a child that is forwarded
			}
			if skip > 0 || t.Name.Space != "" {
				if skip == 0 {
					c.left++
				}
				skip++
				continue
			}
			if open {
				b.WriteByte('>')
			}
			c.writeStart(&b, t)
			open = true
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if open {
				b.WriteString("/>")
				open = false
				continue
			}
			b.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			if skip > 0 {
				continue
			}
			if open {
				b.WriteByte('>')
				open = false
			}
			escape(&b, t, false)
		}
	}
	b.WriteByte('\n')
	if err := p.epilog(root.Name); err != nil {
		return nil, err
	}
	c.out = b.Bytes()
	return c, nil
}

// writeStart writes "<name attr=…" without the closing ">"; namespace
// declarations and namespaced attributes are left out (and counted).
func (c *copied) writeStart(b *bytes.Buffer, t xml.StartElement) {
	b.WriteString("<" + t.Name.Local)
	for _, a := range t.Attr {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
				c.left++
			}
			continue
		}
		b.WriteString(" " + a.Name.Local + `="`)
		escape(b, []byte(a.Value), true)
		b.WriteByte('"')
	}
}

// escape writes s with what XML needs escaped: &, < and > always; in an
// attribute also the double quote and the white space that attribute
// normalisation would turn into spaces. Carriage returns are written as
// references everywhere, so that they survive line-end normalisation.
// encoding/xml has already refused characters XML cannot carry.
func escape(b *bytes.Buffer, s []byte, attr bool) {
	last := 0
	for i, ch := range s {
		var esc string
		switch ch {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '"':
			if attr {
				esc = "&quot;"
			}
		case '\t':
			if attr {
				esc = "&#x9;"
			}
		case '\n':
			if attr {
				esc = "&#xA;"
			}
		}
		if esc != "" {
			b.Write(s[last:i])
			b.WriteString(esc)
			last = i + 1
		}
	}
	b.Write(s[last:])
}

// newParser returns the parser of a body, or nil when the body is empty
// (after a byte order mark and white space) or UTF-16.
func newParser(body []byte) *parser {
	body = bytes.TrimPrefix(body, utf8BOM)
	if len(bytes.Trim(body, xmlSpace)) == 0 || bytes.HasPrefix(body, []byte("\xfe\xff")) || bytes.HasPrefix(body, []byte("\xff\xfe")) {
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true   // the default, stated: undefined entities are errors
	d.Entity = nil    // only &lt; &gt; &amp; &apos; &quot; and &#…;
	d.AutoClose = nil // no HTML leniency
	d.CharsetReader = charsetReader
	return &parser{d: d, body: body, r: new(Reply)}
}

// emptyOrUTF16 is the error for a body newParser refuses.
func emptyOrUTF16(body []byte) error {
	body = bytes.TrimPrefix(body, utf8BOM)
	if len(bytes.Trim(body, xmlSpace)) == 0 {
		return errorf(ErrNotXML, "empty body; a strict script must answer XML: <nomessage/> when there is nothing to do")
	}
	return errorf(ErrNotXML, "body is UTF-16; answer in UTF-8")
}

// commandList names at most summaryMax commands, then counts the rest.
func commandList(cmds []Command) string {
	var b strings.Builder
	for i, c := range cmds {
		if i == summaryMax {
			b.WriteString("; +" + strconv.Itoa(len(cmds)-summaryMax) + " more")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(string(c.Kind) + " " + summaryID(c.Session))
	}
	return b.String()
}

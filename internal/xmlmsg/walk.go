package xmlmsg

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// This file validates the element tree of a reply, one method per element
// of the documented shape:
//
//	<module secret="…">            module
//	  <islLight>                   islLight
//	    <session id="…">           session
//	      <send to="client|desk">  send (fields msgbox, chat, message, cp_label)
//	      <drop/>                  drop
//
// Each method is called right after its start element was read and returns
// after reading the matching end element.

func (p *parser) nomessage(start xml.StartElement, line int) error {
	p.r.NoMessage = true
	if err := p.unknownAttrs(start, nil, "nomessage"); err != nil {
		return err
	}
	return p.empty("<nomessage>", line)
}

func (p *parser) module(start xml.StartElement, line int) error {
	vals, err := p.attrs(start, "module", "secret")
	if err != nil {
		return err
	}
	if len(vals[0]) > maxShort {
		return errorf(ErrTooLarge, "line %d: secret is %d bytes; at most %d are allowed", line, len(vals[0]), maxShort)
	}
	p.r.Secret = vals[0]
	n, err := p.children("<module>", func(c xml.StartElement, cline int) error {
		if c.Name == (xml.Name{Local: "islLight"}) {
			return p.islLight(c, cline)
		}
		return p.skipUnknown("module: unknown product " + tag(c.Name))
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errorf(ErrNotXMLMSG, "line %d: <module> holds no product element; want <islLight>, or answer <nomessage/> when there is nothing to do", line)
	}
	return nil
}

func (p *parser) islLight(start xml.StartElement, line int) error {
	if _, err := p.attrs(start, "islLight"); err != nil {
		return err
	}
	n, err := p.children("<islLight>", func(c xml.StartElement, cline int) error {
		if c.Name == (xml.Name{Local: "session"}) {
			return p.session(c, cline)
		}
		return p.skipUnknown("islLight: unknown element " + tag(c.Name))
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errorf(ErrNotXMLMSG, "line %d: <islLight> holds no <session>", line)
	}
	return nil
}

func (p *parser) session(start xml.StartElement, line int) error {
	id, _ := attr(start, "id")
	if id == "" {
		return errorf(ErrNotXMLMSG, `line %d: <session> needs a non-empty id="…"`, line)
	}
	if len(id) > maxShort {
		return errorf(ErrTooLarge, "line %d: session id is %d bytes; at most %d are allowed", line, len(id), maxShort)
	}
	where := "session " + quoteCut(id, excerptLen)
	if _, err := p.attrs(start, where, "id"); err != nil {
		return err
	}
	n, err := p.children("<session>", func(c xml.StartElement, cline int) error {
		switch c.Name {
		case xml.Name{Local: "send"}:
			return p.send(c, cline, id, where)
		case xml.Name{Local: "drop"}:
			if err := p.unknownAttrs(c, nil, where); err != nil {
				return err
			}
			if err := p.empty(where+": <drop>", cline); err != nil {
				return err
			}
			return p.add(Command{Session: id, Kind: KindDrop}, cline)
		}
		return p.skipUnknown(where + ": unknown command " + tag(c.Name))
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errorf(ErrNotXMLMSG, "line %d: %s holds no command; want <send> or <drop>", line, where)
	}
	return nil
}

// The fields of a send, in the order of sendFields.
const (
	fieldMsgbox = iota
	fieldChat
	fieldMessage
	fieldLabel
	numFields
)

var sendFields = [numFields]string{"msgbox", "chat", "message", "cp_label"}

func (p *parser) send(start xml.StartElement, line int, id, session string) error {
	to, _ := attr(start, "to")
	var allowed [numFields]bool
	switch to {
	case "client":
		allowed[fieldMsgbox], allowed[fieldMessage] = true, true
	case "desk":
		allowed[fieldChat], allowed[fieldMessage], allowed[fieldLabel] = true, true, true
	case "":
		return errorf(ErrNotXMLMSG, `line %d: %s: <send> needs to="client" or to="desk"`, line, session)
	default:
		return errorf(ErrNotXMLMSG, `line %d: %s: <send to=%s>: to must be "client" or "desk"`, line, session, quoteCut(to, excerptLen))
	}
	where := fmt.Sprintf("%s: <send to=%q>", session, to)
	if _, err := p.attrs(start, where, "to"); err != nil {
		return err
	}
	var vals [numFields]string
	var seen [numFields]bool
	_, err := p.children(where, func(c xml.StartElement, cline int) error {
		f := -1
		if c.Name.Space == "" {
			f = indexOf(sendFields[:], c.Name.Local)
		}
		switch {
		case f < 0:
			return p.skipUnknown(where + ": unknown element " + tag(c.Name))
		case !allowed[f]:
			return errorf(ErrNotXMLMSG, "line %d: %s: <%s> does not belong in a send to %s; want %s", cline, where, sendFields[f], to, wantFields(allowed))
		case seen[f]:
			return errorf(ErrNotXMLMSG, "line %d: %s: more than one <%s>", cline, where, sendFields[f])
		}
		seen[f] = true
		var err error
		vals[f], err = p.text(c, where+": <"+sendFields[f]+">")
		return err
	})
	if err != nil {
		return err
	}
	cmd := Command{Session: id, Message: vals[fieldMessage], Label: vals[fieldLabel]}
	flag := fieldMsgbox
	cmd.Kind = KindMsgbox
	if to == "desk" {
		flag = fieldChat
		cmd.Kind = KindChat
	}
	switch {
	case !seen[flag]:
		return errorf(ErrNotXMLMSG, "line %d: %s needs <%s>1</%[3]s>", line, where, sendFields[flag])
	case vals[flag] != "1":
		return errorf(ErrNotXMLMSG, "line %d: %s: <%s> must be 1, not %s", line, where, sendFields[flag], quoteCut(vals[flag], excerptLen))
	case cmd.Message == "":
		return errorf(ErrNotXMLMSG, "line %d: %s needs a non-empty <message>", line, where)
	case len(cmd.Message) > MaxMessage:
		return errorf(ErrTooLarge, "line %d: %s: <message> is %d bytes; at most %d are allowed (MaxMessage)", line, where, len(cmd.Message), MaxMessage)
	case len(cmd.Label) > maxShort:
		return errorf(ErrTooLarge, "line %d: %s: <cp_label> is %d bytes; at most %d are allowed", line, where, len(cmd.Label), maxShort)
	}
	return p.add(cmd, line)
}

func wantFields(allowed [numFields]bool) string {
	var names []string
	for f, ok := range allowed {
		if ok {
			names = append(names, "<"+sendFields[f]+">")
		}
	}
	return strings.Join(names, ", ")
}

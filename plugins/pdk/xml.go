package pdk

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// renderXMLMSG writes cmds as one XMLMSG document, or says why hookd would
// refuse it. The shape is that of internal/xmlmsg's Document.
func renderXMLMSG(secret string, cmds []Command) ([]byte, error) {
	if len(cmds) > MaxCommands {
		return nil, errors.New(strconv.Itoa(len(cmds)) + " commands; at most " + strconv.Itoa(MaxCommands) + " fit in a reply")
	}
	secret = validXML(secret)
	if len(trim(secret)) > MaxShort {
		return nil, errors.New("the secret is over " + strconv.Itoa(MaxShort) + " bytes")
	}
	size := 64 + len(secret)
	for i, c := range cmds {
		c.session, c.message, c.label = validXML(c.session), validXML(c.message), validXML(c.label)
		cmds[i] = c
		if err := c.check(); err != nil {
			return nil, err
		}
		size += 96 + len(c.session) + len(c.message) + len(c.label)
	}
	b := make([]byte, 0, size)
	b = append(b, "<module"...)
	if secret != "" {
		b = appendAttr(b, "secret", secret)
	}
	b = append(b, "><islLight>"...)
	for i, c := range cmds {
		if i == 0 || cmds[i-1].session != c.session {
			b = append(b, "<session"...)
			b = appendAttr(b, "id", c.session)
			b = append(b, '>')
		}
		switch c.kind {
		case kindMsgbox:
			b = append(b, `<send to="client"><msgbox>1</msgbox>`...)
			b = appendElem(b, "message", c.message)
			b = append(b, "</send>"...)
		case kindChat:
			b = append(b, `<send to="desk"><chat>1</chat>`...)
			b = appendElem(b, "message", c.message)
			if c.label != "" {
				b = appendElem(b, "cp_label", c.label)
			}
			b = append(b, "</send>"...)
		case kindDrop:
			b = append(b, "<drop/>"...)
		}
		if i == len(cmds)-1 || cmds[i+1].session != c.session {
			b = append(b, "</session>"...)
		}
	}
	return append(b, "</islLight></module>"...), nil
}

// check reports what hookd would refuse in c.
func (c Command) check() error {
	if c.kind == 0 || int(c.kind) >= len(kindName) {
		return errors.New("a zero Command; make commands with Drop, MessageBox or Chat")
	}
	what := kindName[c.kind] + " for session " + strconv.Quote(cutString(c.session, 40))
	switch {
	case trim(c.session) == "":
		return errors.New(kindName[c.kind] + ": the session id is empty")
	case len(trim(c.session)) > MaxShort:
		return errors.New(what + ": the session id is over " + strconv.Itoa(MaxShort) + " bytes")
	case c.kind == kindDrop:
		return nil
	case trim(c.message) == "":
		return errors.New(what + ": the message is empty")
	case len(trim(c.message)) > MaxMessage:
		return errors.New(what + ": the message is " + strconv.Itoa(len(trim(c.message))) + " bytes, over " + strconv.Itoa(MaxMessage))
	case len(trim(c.label)) > MaxShort:
		return errors.New(what + ": the label is over " + strconv.Itoa(MaxShort) + " bytes")
	}
	return nil
}

// trim removes XML white space, as hookd does before checking values.
func trim(s string) string { return strings.Trim(s, " \t\r\n") }

func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value)
	return append(b, '"')
}

func appendElem(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// validXML returns s with the characters XML 1.0 cannot carry (control
// characters but tab, newline and carriage return; U+FFFE, U+FFFF; invalid
// UTF-8) replaced by U+FFFD, so that limits are checked on what is sent.
func validXML(s string) string {
	var out []byte // nil until something is replaced
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		bad := r < 0x20 && r != '\t' && r != '\n' && r != '\r' ||
			r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF
		if bad && out == nil {
			out = append(make([]byte, 0, len(s)+8), s[:i]...)
		}
		switch {
		case bad:
			out = append(out, "\uFFFD"...)
		case out != nil:
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return s
	}
	return string(out)
}

// appendEscaped escapes s, made valid by validXML, as encoding/xml's
// EscapeText does: the five markup characters, and tab, newline and
// carriage return as character references (so that attribute
// normalisation keeps them).
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

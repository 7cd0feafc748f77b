package xmlmsg

import (
	"bytes"
	"encoding/xml"
	"log/slog"
	"strconv"
	"strings"
)

// Kind names what a [Command] makes the proxy do. The values are the words
// used in [Reply.Summary] and in session records.
type Kind string

const (
	// KindMsgbox shows a message box on the client:
	// <send to="client"><msgbox>1</msgbox><message>…</message></send>.
	KindMsgbox Kind = "msgbox"

	// KindChat writes chat text on the desk, optionally under a label:
	// <send to="desk"><chat>1</chat><message>…</message><cp_label>…</cp_label></send>.
	KindChat Kind = "chat"

	// KindDrop terminates the session: <drop/>.
	KindDrop Kind = "drop"
)

// Command is one known, validated XMLMSG command for one session.
//
// # Notes
//
//   - Session, Message and Label are unescaped text with surrounding XML
//     whitespace trimmed; [Reply.Document] escapes them again.
//   - Message is set for KindMsgbox and KindChat, Label only for KindChat
//     (and may be empty); both are empty for KindDrop.
type Command struct {
	Session string // session@id, the proxy's SESSIONID
	Kind    Kind
	Message string // at most MaxMessage bytes
	Label   string // cp_label of a chat, at most 256 bytes
}

// Reply is a parsed, valid answer of an HTTP-event script: either
// <nomessage/> or an XMLMSG document.
//
// A Reply holds the database secret the script sent. It prints as its
// [Reply.Summary] (String, GoString, LogValue), so that logging it never
// leaks the secret; read Secret explicitly where it is needed.
type Reply struct {
	// NoMessage is true for <nomessage/>: the event is acknowledged and
	// there is nothing to forward.
	NoMessage bool

	// Secret is module@secret, the proxy's database secret, kept so that
	// [Reply.Document] can forward it. It may be empty.
	Secret string

	// Commands are the valid, known commands, in document order.
	Commands []Command

	// Unknown describes what this package does not know, e.g.
	// `session "5a1b": unknown command <transfer>`, for the operator.
	// [Reply.Document] leaves it out; [Answer.Document], which is what
	// hookd forwards, keeps it, because an unknown command is most likely
	// a proxy feature the script legitimately uses and the proxy decides.
	Unknown []string
}

// summaryMax is how many commands Summary names before it only counts.
const summaryMax = 5

// Summary describes the reply in one short line for logs and session
// records, without the secret or any message text:
//
//	nomessage
//	xmlmsg: msgbox 5a1b; chat 5a1c; drop 5a1d
//	xmlmsg: drop 5a1d; +1 unknown
//	xmlmsg: nothing to forward; +2 unknown
//
// At most five commands are named; the rest are counted ("+95 more").
func (r *Reply) Summary() string {
	if r == nil {
		return "<nil>"
	}
	var b strings.Builder
	switch {
	case r.NoMessage:
		b.WriteString("nomessage")
	case len(r.Commands) == 0:
		b.WriteString("xmlmsg: nothing to forward")
	default:
		b.WriteString("xmlmsg: " + commandList(r.Commands))
	}
	if n := len(r.Unknown); n > 0 {
		b.WriteString("; +" + strconv.Itoa(n) + " unknown")
	}
	return b.String()
}

// summaryID prints a session id as is when it is a plain token (ISL ids
// are), quoted and shortened otherwise, so that a hostile id cannot forge
// or stretch a log line.
func summaryID(id string) string {
	if len(id) <= 32 && strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r))
	}) < 0 {
		return id
	}
	return quoteCut(id, 32)
}

// String returns [Reply.Summary], so that %v never prints the secret.
func (r *Reply) String() string { return r.Summary() }

// GoString returns the Summary too, so that %#v never prints the secret.
func (r *Reply) GoString() string { return "xmlmsg.Reply(" + strconv.Quote(r.Summary()) + ")" }

// LogValue returns [Reply.Summary], so that slog never prints the secret.
func (r *Reply) LogValue() slog.Value { return slog.StringValue(r.Summary()) }

// Document re-serialises the reply as an XMLMSG document holding only the
// known, checked commands, in a form that POSTs as text/xml to the proxy's
// XMLMSG endpoint. hookd itself forwards [Answer.Document], which keeps
// the commands this package does not know; Document is for a caller that
// builds or filters commands itself (a Reply built by hand).
// It returns nil when there is nothing to forward: for <nomessage/> and for
// a document whose commands were all unknown.
//
// The output parses back with [Parse] to the same Secret and Commands.
// Consecutive commands for one session share a <session> element; the
// order of the commands is kept.
//
// # Notes
//
//   - Commands of a Kind other than the three constants (only possible in
//     a Reply built by hand) are left out, and characters XML cannot carry
//     are written as U+FFFD; neither happens to a Reply from Parse.
//   - The script's bytes are never copied through: every value is escaped
//     again, so that nothing skipped (an unknown command, a comment, a
//     processing instruction) reaches the proxy.
func (r *Reply) Document() []byte {
	if r == nil || r.NoMessage {
		return nil
	}
	cmds := make([]Command, 0, len(r.Commands))
	for _, c := range r.Commands {
		if c.Kind == KindMsgbox || c.Kind == KindChat || c.Kind == KindDrop {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<module")
	if r.Secret != "" {
		writeAttr(&b, "secret", r.Secret)
	}
	b.WriteString(">\n  <islLight>\n")
	for i, c := range cmds {
		if i == 0 || cmds[i-1].Session != c.Session {
			b.WriteString("    <session")
			writeAttr(&b, "id", c.Session)
			b.WriteString(">\n")
		}
		switch c.Kind {
		case KindMsgbox:
			b.WriteString(`      <send to="client"><msgbox>1</msgbox>`)
			writeElem(&b, "message", c.Message)
			b.WriteString("</send>\n")
		case KindChat:
			b.WriteString(`      <send to="desk"><chat>1</chat>`)
			writeElem(&b, "message", c.Message)
			if c.Label != "" {
				writeElem(&b, "cp_label", c.Label)
			}
			b.WriteString("</send>\n")
		case KindDrop:
			b.WriteString("      <drop/>\n")
		}
		if i == len(cmds)-1 || cmds[i+1].Session != c.Session {
			b.WriteString("    </session>\n")
		}
	}
	b.WriteString("  </islLight>\n</module>\n")
	return b.Bytes()
}

// writeAttr writes ` name="value"`. xml.EscapeText escapes quotes, and
// tabs and newlines as character references, which attribute-value
// normalisation would otherwise turn into spaces.
func writeAttr(b *bytes.Buffer, name, value string) {
	b.WriteString(" " + name + `="`)
	_ = xml.EscapeText(b, []byte(value)) // a bytes.Buffer never fails
	b.WriteByte('"')
}

func writeElem(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text)) // a bytes.Buffer never fails
	b.WriteString("</" + name + ">")
}

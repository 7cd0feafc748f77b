package xmlmsg

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Sentinel errors. Every error [Parse] returns wraps exactly one of them, so
// that the delivery engine and its metrics can tell a script that answers
// HTML from one that answers a broken XMLMSG document, without matching
// message text. [ErrNotXML], [ErrDTD] and [ErrTooLarge] mean a strict
// delivery is not acknowledged; [ErrNotXMLMSG] comes only from [Parse]:
// [ReadAnswer] acknowledges such well-formed XML and says in the summary
// what was not executed or not checked.
var (
	// ErrNotXML reports a body that is not one well-formed XML document:
	// empty, plain text or HTML, a syntax error, an undefined entity,
	// content after the root element, or an unsupported encoding.
	ErrNotXML = errors.New("reply is not XML")

	// ErrDTD reports a <!DOCTYPE> (or any other <!…> declaration). DTDs
	// are refused outright: they are how entity bombs and external
	// entities get in, and no reply needs one.
	ErrDTD = errors.New("reply has a DTD")

	// ErrTooLarge reports a reply over one of the limits: [MaxReply],
	// [MaxDepth], [MaxCommands], [MaxMessage] or the 256-byte limit on
	// session ids, labels and secrets.
	ErrTooLarge = errors.New("reply too large")

	// ErrNotXMLMSG reports well-formed XML that [Parse] cannot read as
	// <nomessage/> or an XMLMSG document of known commands: a wrong root
	// element, or a known command written another way (a session without
	// id, a send without its message, a drop with content, …).
	ErrNotXMLMSG = errors.New("reply is not <nomessage/> or XMLMSG")
)

// replyError carries a complete, user-facing message while still matching
// its sentinel with errors.Is. The message is not prefixed with the
// sentinel's text: the operator reads it in the delivery log, and it already
// says what is wrong and what is allowed.
type replyError struct {
	kind  error // one of the sentinels above
	msg   string
	cause error // optional, e.g. the *xml.SyntaxError
}

func (e *replyError) Error() string { return e.msg }

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *replyError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

func errorf(kind error, format string, args ...any) error {
	return &replyError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func wrapf(kind, cause error, format string, args ...any) error {
	return &replyError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// excerptLen is how much of a body or value an error or an Unknown entry
// shows: enough to recognise "<html><head><title>502 Bad Gateway", short
// enough for one log line.
const excerptLen = 64

// excerpt quotes the start of b (at most excerptLen bytes) so that control
// characters and invalid UTF-8 from a misbehaving script cannot garble a log
// line.
func excerpt[T []byte | string](b T) string { return quoteCut(string(b), excerptLen) }

// quoteCut quotes at most n bytes of s; a cut is marked with "…".
func quoteCut(s string, n int) string {
	if c := cut(s, n); len(c) < len(s) {
		return strconv.Quote(c) + "…"
	}
	return strconv.Quote(s)
}

// cut returns at most n bytes of s, cut on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > n-utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

package pdk

import (
	"github.com/hookrt/hookd/hostapi"

	"errors"
	"runtime"
	"slices"
)

// Reply is a handler's answer to an event: what an HTTP-event script would
// have printed, or a failure. Make one with [NoMessage], a [Command]
// ([Drop], [MessageBox], [Chat]), [Commands], [XML], [Fail] or
// [FailPermanently]; a nil Reply is [NoMessage].
//
//	return pdk.Commands(secret,
//		pdk.MessageBox(id, "This session is recorded."),
//		pdk.Chat(id, "Customer warned.", "bot"))
type Reply interface {
	// apply sends the reply to the host and returns the call's status.
	apply() int32
}

// Command is one XMLMSG command for a session. A Command is also a
// [Reply]: returned alone, it is sent as Commands("", cmd), with the secret
// set by [SetSecret].
type Command struct {
	kind    uint8
	session string
	message string
	label   string
}

const (
	kindMsgbox uint8 = iota + 1
	kindChat
	kindDrop
)

var kindName = [...]string{kindMsgbox: "msgbox", kindChat: "chat", kindDrop: "drop"}

// Drop terminates the session: <drop/>.
//
//	return pdk.Drop(ev.Get("SESSIONID"))
func Drop(session string) Command { return Command{kind: kindDrop, session: session} }

// MessageBox shows text in a message box on the client: <send
// to="client"><msgbox>1</msgbox><message>text</message></send>.
func MessageBox(session, text string) Command {
	return Command{kind: kindMsgbox, session: session, message: text}
}

// Chat writes text into the desk's chat, under label when it is not empty:
// <send to="desk"><chat>1</chat><message>text</message><cp_label>label</cp_label></send>.
func Chat(session, text, label string) Command {
	return Command{kind: kindChat, session: session, message: text, label: label}
}

func (c Command) apply() int32 { return commands{cmds: []Command{c}}.apply() }

// defaultSecret is the secret of replies that name none.
var defaultSecret string

// SetSecret sets the XMLMSG database secret of the replies that do not name
// one: a [Command] returned alone, and [Commands] with an empty secret.
//
//	var cfg struct{ Secret string `json:"secret"` }
//	if err := pdk.Config(&cfg); err == nil {
//		pdk.SetSecret(cfg.Secret)
//	}
//
// # Notes
//
//   - The proxy refuses most XMLMSG commands without the database secret
//     (Configuration → General → Database secret).
//   - Without a secret, <module> is written without the attribute.
func SetSecret(secret string) { defaultSecret = secret }

// commands is the Reply of Commands.
type commands struct {
	secret string
	cmds   []Command
}

// Commands combines commands into one XMLMSG document, with the database
// secret (or, when secret is "", the one set by [SetSecret]):
//
//	<module secret="…"><islLight><session id="…">…</session></islLight></module>
//
// Consecutive commands for one session share a <session> element; the
// order is kept. No commands is [NoMessage].
//
// # Notes
//
//   - Every value is XML-escaped; characters XML cannot carry become
//     U+FFFD.
//   - A reply hookd would refuse is not sent: an empty session id or
//     message, a message over [MaxMessage] bytes, a session id, label or
//     secret over [MaxShort] bytes, or more than [MaxCommands] commands
//     fail the call for good (status 2) with a message saying which.
func Commands(secret string, cmds ...Command) Reply {
	return commands{secret: secret, cmds: slices.Clone(cmds)}
}

// Limits of an XMLMSG reply, as hookd checks them (internal/xmlmsg).
const (
	MaxMessage  = 4 << 10 // bytes of a message, surrounding white space excluded
	MaxShort    = 256     // bytes of a session id, a chat label or the secret
	MaxCommands = 100     // commands in one reply
)

func (c commands) apply() int32 {
	if len(c.cmds) == 0 {
		return statusHandled
	}
	secret := c.secret
	if secret == "" {
		secret = defaultSecret
	}
	doc, err := renderXMLMSG(secret, c.cmds)
	if err != nil {
		return fail(statusFailed, "pdk: reply not sent: "+err.Error())
	}
	return setReply(doc)
}

// xmlReply is the Reply of XML.
type xmlReply string

// XML replies doc as it is: an XMLMSG document the handler wrote itself,
// for commands this package has no helper for. "" is [NoMessage].
//
// # Notes
//
//   - hookd checks the document as it checks a script's reply; a document
//     it refuses fails the delivery.
func XML(doc string) Reply { return xmlReply(doc) }

func (x xmlReply) apply() int32 {
	if x == "" {
		return statusHandled
	}
	st := replySet(sptr(string(x)), uint32(len(x)))
	runtime.KeepAlive(x)
	return replied(st)
}

// noMessage is the Reply of NoMessage.
type noMessage struct{}

func (noMessage) apply() int32 { return statusHandled }

// NoMessage answers <nomessage/>: the event is handled, the proxy has
// nothing to do. It sets no reply, which the ABI reads as <nomessage/>.
func NoMessage() Reply { return noMessage{} }

// failure is the Reply of Fail and FailPermanently.
type failure struct {
	status int32
	err    error
}

// Fail fails the call in a way that may succeed later: hookd retries the
// delivery like that of a failed script (status 1), with err's text as the
// failure message.
//
//	if res.Status >= 500 {
//		return pdk.Fail(fmt.Errorf("receiver answered HTTP %d", res.Status))
//	}
func Fail(err error) Reply { return failure{status: statusRetry, err: err} }

// FailPermanently fails the call for good: hookd dead-letters the delivery
// (status 2), with err's text as the failure message. For failures no
// retry can fix, such as an invalid config.
func FailPermanently(err error) Reply { return failure{status: statusFailed, err: err} }

func (f failure) apply() int32 {
	err := f.err
	if err == nil {
		err = errors.New("pdk: failed without an error")
	}
	return fail(f.status, err.Error())
}

// Statuses of hookd_v1_on_event.
const (
	statusHandled = hostapi.StatusHandled
	statusRetry   = hostapi.StatusRetry
	statusFailed  = hostapi.StatusFail
)

// fail sets msg as the failure message and returns status.
func fail(status int32, msg string) int32 {
	setError(msg)
	return status
}

// setReply hands doc to the host.
func setReply(doc []byte) int32 {
	st := replySet(ptr(doc), uint32(len(doc)))
	runtime.KeepAlive(doc)
	return replied(st)
}

// replied is the call's status after reply_set returned st. A reply over
// the host's max_reply fails the call whatever the plugin returns; the
// message says why.
func replied(st int32) int32 {
	if st < 0 {
		return fail(statusRetry, hostError("reply_set", st).Error())
	}
	return statusHandled
}

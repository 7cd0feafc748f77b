package xmlmsg_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// documented is the reply shape of ISL Online's documentation.
const documented = `<module secret="DATABASE_SECRET">
  <islLight>
    <session id="5a1b">
      <send to="client"><msgbox>1</msgbox><message>Hello from the script</message></send>
    </session>
    <session id="5a1c">
      <send to="desk"><chat>1</chat><message>Chat text for the supporter</message><cp_label>Bot</cp_label></send>
    </session>
    <session id="5a1d"><drop/></session>
  </islLight>
</module>`

// Building blocks for the tables.
const (
	msgbox5a1b = `<send to="client"><msgbox>1</msgbox><message>Hello</message></send>`
	chat5a1c   = `<send to="desk"><chat>1</chat><message>Hi</message></send>`
)

// inSession wraps commands in a module, an islLight and session "a".
func inSession(commands string) string {
	return `<module secret="s"><islLight><session id="a">` + commands + `</session></islLight></module>`
}

// clientSend is a client send of the given fields, in session "a".
func clientSend(fields string) string {
	return inSession(`<send to="client">` + fields + `</send>`)
}

func deskSend(fields string) string {
	return inSession(`<send to="desk">` + fields + `</send>`)
}

var (
	cmdMsgbox = xmlmsg.Command{Session: "5a1b", Kind: xmlmsg.KindMsgbox, Message: "Hello from the script"}
	cmdChat   = xmlmsg.Command{Session: "5a1c", Kind: xmlmsg.KindChat, Message: "Chat text for the supporter", Label: "Bot"}
	cmdDrop   = xmlmsg.Command{Session: "5a1d", Kind: xmlmsg.KindDrop}
	noMessage = &xmlmsg.Reply{NoMessage: true}
)

func msgbox(session, message string) xmlmsg.Command {
	return xmlmsg.Command{Session: session, Kind: xmlmsg.KindMsgbox, Message: message}
}

func drop(session string) xmlmsg.Command {
	return xmlmsg.Command{Session: session, Kind: xmlmsg.KindDrop}
}

// validTests are replies that acknowledge the event. FuzzParse seeds its
// corpus with them.
var validTests = []struct {
	name string
	body string
	want *xmlmsg.Reply
}{
	{"nomessage", `<nomessage/>`, noMessage},
	{"nomessage open and close", `<nomessage></nomessage>`, noMessage},
	{"nomessage with whitespace inside", "<nomessage> \r\n\t</nomessage>", noMessage},
	{"declaration", `<?xml version="1.0" encoding="UTF-8"?><nomessage/>`, noMessage},
	{"declaration lower-case utf-8", `<?xml version="1.0" encoding="utf-8" standalone="yes"?>` + "\n<nomessage/>\n", noMessage},
	{"whitespace and CRLF around", "\r\n  <?xml version=\"1.0\"?>\r\n<nomessage/>\r\n\r\n", noMessage},
	{"BOM", "\xef\xbb\xbf<?xml version='1.0'?>\n<nomessage/>\n", noMessage},
	{"BOM without declaration", "\xef\xbb\xbf<nomessage/>", noMessage},
	{"comments and PIs", "<!-- ok --><?php-made by=\"x\"?><nomessage><!-- nothing --></nomessage><!-- end -->\n", noMessage},
	{"nomessage unknown attribute", `<nomessage reason="ok"/>`, &xmlmsg.Reply{NoMessage: true,
		Unknown: []string{"nomessage: unknown attribute reason on <nomessage>"}}},
	{"documented example", documented, &xmlmsg.Reply{Secret: "DATABASE_SECRET",
		Commands: []xmlmsg.Command{cmdMsgbox, cmdChat, cmdDrop}}},
	{"documented example with declaration and CRLF",
		"<?xml version=\"1.0\"?>\r\n" + strings.ReplaceAll(documented, "\n", "\r\n") + "\r\n",
		&xmlmsg.Reply{Secret: "DATABASE_SECRET", Commands: []xmlmsg.Command{cmdMsgbox, cmdChat, cmdDrop}}},
	{"msgbox", clientSend(`<msgbox>1</msgbox><message>Hello</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "Hello")}}},
	{"msgbox fields in any order", clientSend(`<message>Hello</message><msgbox>1</msgbox>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "Hello")}}},
	{"chat without label", deskSend(`<chat>1</chat><message>Hi</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{{Session: "a", Kind: xmlmsg.KindChat, Message: "Hi"}}}},
	{"chat with label", deskSend(`<cp_label>Bot</cp_label><message>Hi</message><chat>1</chat>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{{Session: "a", Kind: xmlmsg.KindChat, Message: "Hi", Label: "Bot"}}}},
	{"drop open and close", inSession(`<drop> </drop>`), &xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a")}}},
	{"drop with comment", inSession(`<drop><!-- bye --></drop>`), &xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a")}}},
	{"several commands in one session, in order", inSession(`<drop/>` + msgbox5a1b + `<drop/>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a"), msgbox("a", "Hello"), drop("a")}}},
	{"several islLight elements",
		`<module><islLight><session id="a"><drop/></session></islLight><islLight><session id="b"><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{drop("a"), drop("b")}}},
	{"no secret", `<module><islLight><session id="a"><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{drop("a")}}},
	{"whitespace trimmed",
		"<module secret=\" s \">\n<islLight>\n<session id=\"\ta \">\n<send to=\" desk \">\n<chat> 1 </chat>\n<message>\n  Hi there  \n</message>\n<cp_label> Bot </cp_label>\n</send>\n</session>\n</islLight>\n</module>",
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{{Session: "a", Kind: xmlmsg.KindChat, Message: "Hi there", Label: "Bot"}}}},
	{"escapes and character references",
		clientSend(`<msgbox>1</msgbox><message>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&#39; &#x263A;</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", `a <b> & "c" 'd' ☺`)}}},
	{"escaped id", `<module><islLight><session id="a&amp;&lt;&quot;b"><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{drop(`a&<"b`)}}},
	{"CDATA", clientSend(`<msgbox>1</msgbox><message><![CDATA[<b>bold</b> & co]]></message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "<b>bold</b> & co")}}},
	{"multi-line message, CRLF read as LF", clientSend("<msgbox>1</msgbox><message>line 1\r\nline 2\n\tline 3</message>"),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "line 1\nline 2\n\tline 3")}}},
	{"comment inside message", clientSend(`<msgbox>1</msgbox><message>Hel<!-- x -->lo</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "Hello")}}},
	{"unknown command recorded", `<module><islLight><session id="5a1b"><transfer to="x"/>` + msgbox5a1b + `</session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{msgbox("5a1b", "Hello")},
			Unknown: []string{`session "5a1b": unknown command <transfer>`}}},
	{"unknown product recorded", `<module><islPronto><chat id="1"><close/></chat></islPronto><islLight><session id="a"><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{drop("a")}, Unknown: []string{"module: unknown product <islPronto>"}}},
	{"only unknown", `<module><islPronto><x/></islPronto></module>`,
		&xmlmsg.Reply{Unknown: []string{"module: unknown product <islPronto>"}}},
	{"unknown in islLight", `<module><islLight><user id="1"/><session id="a"><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Commands: []xmlmsg.Command{drop("a")}, Unknown: []string{"islLight: unknown element <user>"}}},
	{"unknown element in send", clientSend(`<msgbox>1</msgbox><title>T</title><message>Hello</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "Hello")},
			Unknown: []string{`session "a": <send to="client">: unknown element <title>`}}},
	{"unknown attributes",
		`<module secret="s" version="2"><islLight x="1"><session id="a" y="2"><send to="client" z="3"><msgbox>1</msgbox><message w="4">Hi</message></send><drop v="5"/></session></islLight></module>`,
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "Hi"), drop("a")}, Unknown: []string{
			"module: unknown attribute version on <module>",
			"islLight: unknown attribute x on <islLight>",
			`session "a": unknown attribute y on <session>`,
			`session "a": <send to="client">: unknown attribute z on <send>`,
			`session "a": <send to="client">: <message>: unknown attribute w on <message>`,
			`session "a": unknown attribute v on <drop>`,
		}}},
	{"namespace declarations ignored, namespaced elements unknown",
		`<module xmlns:x="urn:x" secret="s"><islLight><session id="a"><x:drop/><drop/></session></islLight></module>`,
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a")},
			Unknown: []string{`session "a": unknown command <drop xmlns="urn:x">`}}},
	{"long unknown name cut", inSession(`<drop/><` + strings.Repeat("x", 100) + `/>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a")}, Unknown: []string{`session "a": unknown command <` + strings.Repeat("x", 64) + `…>`}}},
	{"names are case-sensitive", inSession(`<Drop/><drop/>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{drop("a")}, Unknown: []string{`session "a": unknown command <Drop>`}}},
	{"ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + clientSend("<msgbox>1</msgbox><message>caf\xe9</message>"),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "café")}}},
	{"ISO-8859-1 over several reads", "<?xml version='1.0' encoding='latin1'?>" + clientSend("<msgbox>1</msgbox><message>"+strings.Repeat("\xe9", 2000)+"</message>"),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", strings.Repeat("é", 2000))}}},
	{"US-ASCII", `<?xml version="1.0" encoding="US-ASCII"?>` + clientSend("<msgbox>1</msgbox><message>plain</message>"),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "plain")}}},
	{"windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>" + clientSend("<msgbox>1</msgbox><message>5 \x80 \x93ok\x94</message>"),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", "5 € “ok”")}}},
	{"nesting at MaxDepth", `<module><islPronto>` + strings.Repeat("<x>", xmlmsg.MaxDepth-2) + strings.Repeat("</x>", xmlmsg.MaxDepth-2) +
		`</islPronto></module>`, &xmlmsg.Reply{Unknown: []string{"module: unknown product <islPronto>"}}},
	{"MaxCommands commands", inSession(strings.Repeat("<drop/>", xmlmsg.MaxCommands)),
		&xmlmsg.Reply{Secret: "s", Commands: repeat(drop("a"), xmlmsg.MaxCommands)}},
	{"message of MaxMessage bytes", clientSend(`<msgbox>1</msgbox><message>` + strings.Repeat("é", xmlmsg.MaxMessage/2) + `</message>`),
		&xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{msgbox("a", strings.Repeat("é", xmlmsg.MaxMessage/2))}}},
}

func repeat(c xmlmsg.Command, n int) []xmlmsg.Command {
	cmds := make([]xmlmsg.Command, n)
	for i := range cmds {
		cmds[i] = c
	}
	return cmds
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, tt := range validTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := xmlmsg.Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", *got, *tt.want)
			}
		})
	}
}

// invalidTests are replies that do not acknowledge the event, with (part
// of) the message the operator reads. FuzzParse seeds its corpus with them.
var invalidTests = []struct {
	name string
	body string
	want string
	kind error
}{
	// Not XML.
	{"empty", "", "empty body; a strict script must answer XML: <nomessage/> when there is nothing to do", xmlmsg.ErrNotXML},
	{"whitespace only", " \r\n\t", "empty body;", xmlmsg.ErrNotXML},
	{"BOM only", "\xef\xbb\xbf\n", "empty body;", xmlmsg.ErrNotXML},
	{"plain text", "Internal Server Error", `body is not XML: "Internal Server Error"`, xmlmsg.ErrNotXML},
	{"long plain text shows 64 bytes", strings.Repeat("0123456789", 10), `body is not XML: "` + strings.Repeat("0123456789", 6) + `0123"…`, xmlmsg.ErrNotXML},
	{"control characters quoted", "OK\x1b[31m\n", `body is not XML (line 2: illegal character code U+001B): "OK\x1b[31m\n"`, xmlmsg.ErrNotXML},
	{"JSON", `{"ok": true}`, `body is not XML: "{\"ok\": true}"`, xmlmsg.ErrNotXML},
	{"text before root", "OK<nomessage/>", `body is not XML: "OK<nomessage/>"`, xmlmsg.ErrNotXML},
	{"comment only", "<!-- nothing -->", "body has no root element", xmlmsg.ErrNotXML},
	{"truncated", `<module secret="x"><islLight>`, `body is not XML (line 1: unexpected EOF): "<module secret=\"x\"><islLight>"`, xmlmsg.ErrNotXML},
	{"mismatched end tag", "<nomessage>\n</nomesage>", "body is not XML (line 2: element <nomessage> closed by </nomesage>)", xmlmsg.ErrNotXML},
	{"trailing content", "<nomessage/>\nOK\n", `line 2: trailing content after </nomessage>: "OK"`, xmlmsg.ErrNotXML},
	{"trailing content after module", inSession("<drop/>") + "<", "body is not XML (line 1: unexpected EOF)", xmlmsg.ErrNotXML},
	{"second root", "<nomessage/><nomessage/>", "line 1: second root element <nomessage> after </nomessage>; a reply has exactly one root element", xmlmsg.ErrNotXML},
	{"second root after module", inSession("<drop/>") + "\n<module/>", "line 2: second root element <module> after </module>", xmlmsg.ErrNotXML},
	{"declaration after comment", `<!-- c --><?xml version="1.0"?><nomessage/>`, "line 1: the XML declaration must come first", xmlmsg.ErrNotXML},
	{"declaration after root", `<nomessage/><?xml version="1.0"?>`, "line 1: the XML declaration must come first", xmlmsg.ErrNotXML},
	{"declaration inside root", "<nomessage>\n<?xml version=\"1.0\" encoding=\"latin1\"?></nomessage>", "line 2: the XML declaration must come first", xmlmsg.ErrNotXML},
	{"declaration in a skipped element", inSession(`<drop/><x><?xml version="1.0"?></x>`), "line 1: the XML declaration must come first", xmlmsg.ErrNotXML},
	{"XML 1.1", `<?xml version="1.1"?><nomessage/>`, `body is not XML (unsupported version "1.1"; only version 1.0 is supported)`, xmlmsg.ErrNotXML},
	{"unsupported encoding", `<?xml version="1.0" encoding="koi8-r"?><nomessage/>`,
		`encoding "koi8-r" is not supported; answer in UTF-8 (ISO-8859-1, US-ASCII and windows-1252 are converted)`, xmlmsg.ErrNotXML},
	{"UTF-16", "\xff\xfe<\x00n\x00", "body is UTF-16; answer in UTF-8", xmlmsg.ErrNotXML},
	{"invalid UTF-8", clientSend("<msgbox>1</msgbox><message>caf\xe9</message>"), "body is not XML (line 1: invalid UTF-8)", xmlmsg.ErrNotXML},
	{"undefined entity", clientSend("<msgbox>1</msgbox><message>a&nbsp;b</message>"),
		"body is not XML (line 1): entity &nbsp; is undefined; only &amp; &lt; &gt; &quot; &apos; and character references are allowed", xmlmsg.ErrNotXML},
	{"bare ampersand", clientSend("<msgbox>1</msgbox><message>a & b</message>"), "body is not XML (line 1: invalid character entity & (no semicolon))", xmlmsg.ErrNotXML},
	{"character reference to NUL", clientSend("<msgbox>1</msgbox><message>a&#0;b</message>"), "illegal character code U+0000", xmlmsg.ErrNotXML},
	{"character reference to U+FFFE", clientSend("<msgbox>1</msgbox><message>a&#xFFFE;b</message>"), "body is not XML (line 1: illegal character code U+FFFE)", xmlmsg.ErrNotXML},
	{"duplicate attribute", `<module><islLight><session id="a" id="b"><drop/></session></islLight></module>`, "line 1: attribute id appears twice in <session>", xmlmsg.ErrNotXML},
	{"unquoted attribute", `<module secret=s/>`, "body is not XML (line 1: unquoted or missing attribute value in element)", xmlmsg.ErrNotXML},

	// Valid XML, not a reply.
	{"HTML", "<html><body>502 Bad Gateway</body></html>", "root element <html> is not <nomessage/> or <module>", xmlmsg.ErrNotXMLMSG},
	{"root case", "<NoMessage/>", "root element <NoMessage> is not <nomessage/> or <module>", xmlmsg.ErrNotXMLMSG},
	{"root in a namespace", `<module xmlns="urn:x"><islLight/></module>`, `root element <module xmlns="urn:x"> is not <nomessage/> or <module>`, xmlmsg.ErrNotXMLMSG},
	{"nomessage with text", "<nomessage>OK</nomessage>", `line 1: <nomessage> must be empty, found text "OK"`, xmlmsg.ErrNotXMLMSG},
	{"nomessage with element", "<nomessage><drop/></nomessage>", "line 1: <nomessage> must be empty, found <drop>", xmlmsg.ErrNotXMLMSG},
	{"module without product", `<module secret="s"/>`, "line 1: <module> holds no product element; want <islLight>, or answer <nomessage/> when there is nothing to do", xmlmsg.ErrNotXMLMSG},
	{"text in module", `<module>hello<islLight/></module>`, `line 1: unexpected text "hello" in <module>; only elements belong there`, xmlmsg.ErrNotXMLMSG},
	{"islLight without session", `<module><islLight> </islLight></module>`, "line 1: <islLight> holds no <session>", xmlmsg.ErrNotXMLMSG},
	{"session without id", `<module><islLight><session><drop/></session></islLight></module>`, `line 1: <session> needs a non-empty id="…"`, xmlmsg.ErrNotXMLMSG},
	{"session with blank id", `<module><islLight><session id=" "><drop/></session></islLight></module>`, `<session> needs a non-empty id="…"`, xmlmsg.ErrNotXMLMSG},
	{"session id case", `<module><islLight><session ID="a"><drop/></session></islLight></module>`, `<session> needs a non-empty id="…"`, xmlmsg.ErrNotXMLMSG},
	{"session without command", inSession(""), `line 1: session "a" holds no command; want <send> or <drop>`, xmlmsg.ErrNotXMLMSG},
	{"text in session", inSession("drop"), `unexpected text "drop" in <session>`, xmlmsg.ErrNotXMLMSG},
	{"send without to", inSession(`<send><msgbox>1</msgbox><message>x</message></send>`), `line 1: session "a": <send> needs to="client" or to="desk"`, xmlmsg.ErrNotXMLMSG},
	{"send to unknown", inSession(`<send to="Client"><msgbox>1</msgbox><message>x</message></send>`), `line 1: session "a": <send to="Client">: to must be "client" or "desk"`, xmlmsg.ErrNotXMLMSG},
	{"client without msgbox", clientSend(`<message>x</message>`), `line 1: session "a": <send to="client"> needs <msgbox>1</msgbox>`, xmlmsg.ErrNotXMLMSG},
	{"msgbox 0", clientSend(`<msgbox>0</msgbox><message>x</message>`), `line 1: session "a": <send to="client">: <msgbox> must be 1, not "0"`, xmlmsg.ErrNotXMLMSG},
	{"msgbox empty", clientSend(`<msgbox/><message>x</message>`), `<msgbox> must be 1, not ""`, xmlmsg.ErrNotXMLMSG},
	{"client without message", clientSend(`<msgbox>1</msgbox>`), `line 1: session "a": <send to="client"> needs a non-empty <message>`, xmlmsg.ErrNotXMLMSG},
	{"client with blank message", clientSend("<msgbox>1</msgbox><message> \n </message>"), `<send to="client"> needs a non-empty <message>`, xmlmsg.ErrNotXMLMSG},
	{"desk without chat", deskSend(`<message>x</message>`), `line 1: session "a": <send to="desk"> needs <chat>1</chat>`, xmlmsg.ErrNotXMLMSG},
	{"chat yes", deskSend(`<chat>yes</chat><message>x</message>`), `<send to="desk">: <chat> must be 1, not "yes"`, xmlmsg.ErrNotXMLMSG},
	{"desk without message", deskSend(`<chat>1</chat><cp_label>Bot</cp_label>`), `<send to="desk"> needs a non-empty <message>`, xmlmsg.ErrNotXMLMSG},
	{"chat in client send", clientSend(`<msgbox>1</msgbox><chat>1</chat><message>x</message>`),
		`line 1: session "a": <send to="client">: <chat> does not belong in a send to client; want <msgbox>, <message>`, xmlmsg.ErrNotXMLMSG},
	{"label in client send", clientSend(`<msgbox>1</msgbox><message>x</message><cp_label>Bot</cp_label>`), `<cp_label> does not belong in a send to client`, xmlmsg.ErrNotXMLMSG},
	{"msgbox in desk send", deskSend(`<msgbox>1</msgbox><chat>1</chat><message>x</message>`),
		`<send to="desk">: <msgbox> does not belong in a send to desk; want <chat>, <message>, <cp_label>`, xmlmsg.ErrNotXMLMSG},
	{"two messages", clientSend(`<msgbox>1</msgbox><message>x</message><message>y</message>`), `<send to="client">: more than one <message>`, xmlmsg.ErrNotXMLMSG},
	{"markup in message", clientSend(`<msgbox>1</msgbox><message><b>x</b></message>`), `<send to="client">: <message> must hold text only, found <b>`, xmlmsg.ErrNotXMLMSG},
	{"text in send", clientSend(`<msgbox>1</msgbox>Hello`), `unexpected text "Hello" in session "a": <send to="client">`, xmlmsg.ErrNotXMLMSG},
	{"drop with text", inSession(`<drop>now</drop>`), `line 1: session "a": <drop> must be empty, found text "now"`, xmlmsg.ErrNotXMLMSG},
	{"drop with element", inSession(`<drop><reason/></drop>`), `session "a": <drop> must be empty, found <reason>`, xmlmsg.ErrNotXMLMSG},
	{"error in second session", "<module><islLight>\n<session id=\"a\"><drop/></session>\n<session id=\"b\"><drop>x</drop></session>\n</islLight></module>",
		`line 3: session "b": <drop> must be empty`, xmlmsg.ErrNotXMLMSG},

	// Limits.
	{"message over MaxMessage", clientSend(`<msgbox>1</msgbox><message>` + strings.Repeat("x", xmlmsg.MaxMessage+1) + `</message>`),
		`<send to="client">: <message> is 4097 bytes; at most 4096 are allowed (MaxMessage)`, xmlmsg.ErrTooLarge},
	{"label over 256 bytes", deskSend(`<chat>1</chat><message>x</message><cp_label>` + strings.Repeat("x", 257) + `</cp_label>`),
		`<cp_label> is 257 bytes; at most 256 are allowed`, xmlmsg.ErrTooLarge},
	{"session id over 256 bytes", `<module><islLight><session id="` + strings.Repeat("x", 257) + `"><drop/></session></islLight></module>`,
		"line 1: session id is 257 bytes; at most 256 are allowed", xmlmsg.ErrTooLarge},
	{"secret over 256 bytes", `<module secret="` + strings.Repeat("x", 257) + `"><islLight/></module>`, "line 1: secret is 257 bytes; at most 256 are allowed", xmlmsg.ErrTooLarge},
	{"over MaxCommands", inSession(strings.Repeat("<drop/>", xmlmsg.MaxCommands+1)),
		"line 1: more than 100 commands (MaxCommands, unknown elements and attributes included)", xmlmsg.ErrTooLarge},
	{"over MaxCommands unknown", inSession(strings.Repeat("<transfer/>", xmlmsg.MaxCommands+1)), "more than 100 commands", xmlmsg.ErrTooLarge},
	{"over MaxCommands unknown attributes", `<nomessage` + attrs(xmlmsg.MaxCommands+1) + `/>`, "more than 100 commands", xmlmsg.ErrTooLarge},
	{"over MaxDepth", `<module><islPronto>` + strings.Repeat("<x>", xmlmsg.MaxDepth-1) + strings.Repeat("</x>", xmlmsg.MaxDepth-1) + `</islPronto></module>`,
		"line 1: elements are nested more than 32 deep (MaxDepth)", xmlmsg.ErrTooLarge},
	{"over MaxReply", "<nomessage/>" + strings.Repeat(" ", xmlmsg.MaxReply), "reply has more than 65536 bytes (MaxReply)", xmlmsg.ErrTooLarge},

	// DTDs; security_test.go has the attacks.
	{"HTML with doctype", "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>", `line 1: DTDs are not allowed, found "<!DOCTYPE html>"`, xmlmsg.ErrDTD},
}

// attrs returns n distinct attributes.
func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a" + strconv.Itoa(i) + `="1"`)
	}
	return b.String()
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, tt := range invalidTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRefused(t, tt.body, tt.want, tt.kind)
		})
	}
}

// sentinels are the errors every refusal wraps exactly one of.
var sentinels = []error{xmlmsg.ErrNotXML, xmlmsg.ErrDTD, xmlmsg.ErrTooLarge, xmlmsg.ErrNotXMLMSG}

func checkRefused(t *testing.T, body, want string, kind error) {
	t.Helper()
	got, err := xmlmsg.Parse([]byte(body))
	if err == nil {
		t.Fatalf("Parse = %v, want an error", got)
	}
	t.Log(err)
	if got != nil {
		t.Errorf("Parse returned %v with its error, want nil", got)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q\nwant it to contain %q", err, want)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error = %q, want errors.Is(err, %q)", err, kind)
	}
	checkOneSentinel(t, err)
}

func checkOneSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d sentinels, want exactly one", err, n)
	}
}

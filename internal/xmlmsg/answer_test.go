package xmlmsg_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// TestReadAnswerAcknowledgesWellFormedXML: the proxy asks a strict script
// for valid XML. Every well-formed reply of the tables is acknowledged,
// those Parse refuses only for not being XMLMSG included; everything Parse
// refuses as not XML, a DTD or over a limit stays refused, with the same
// message.
func TestReadAnswerAcknowledgesWellFormedXML(t *testing.T) {
	t.Parallel()
	all := append(append([]struct {
		name string
		body string
		want string
		kind error
	}{}, invalidTests...), securityTests...)
	for _, tt := range all {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := xmlmsg.ReadAnswer([]byte(tt.body))
			if errors.Is(tt.kind, xmlmsg.ErrNotXMLMSG) {
				if err != nil {
					t.Fatalf("ReadAnswer: %v; want well-formed XML acknowledged", err)
				}
				if s := a.Summary(); !strings.Contains(s, tt.want) {
					t.Errorf("Summary = %q; want it to say %q", s, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadAnswer = %v; want an error", a)
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q (%v); want %q wrapping %v", err, err, tt.want, tt.kind)
			}
			checkOneSentinel(t, err)
		})
	}
}

// TestReadAnswerNotXMLMSG: well-formed XML that is not an XMLMSG document
// acknowledges the event; nothing is executed, and the summary says so.
func TestReadAnswerNotXMLMSG(t *testing.T) {
	t.Parallel()
	for body, why := range map[string]string{
		`<?xml version="1.0"?><result>OK</result>`:       "root element <result> is not <nomessage/> or <module>",
		"<html><body><p>saved</p></body></html>":         "root element <html> is not <nomessage/> or <module>",
		`<ok/>`:                                          "root element <ok> is not <nomessage/> or <module>",
		"<nomessage>done</nomessage>":                    `line 1: <nomessage> must be empty, found text "done"`,
		`<module xmlns="urn:x"><islLight/></module>`:     `root element <module xmlns="urn:x">`,
		`<response status="0"><data>1</data></response>`: "root element <response>",
	} {
		a, err := xmlmsg.ReadAnswer([]byte(body))
		if err != nil {
			t.Errorf("ReadAnswer(%q): %v; want acknowledged", body, err)
			continue
		}
		want := "acknowledged: XML not an XMLMSG document, nothing executed (" + why
		if got := a.Summary(); !strings.HasPrefix(got, want) {
			t.Errorf("Summary of %q = %q; want it to start %q", body, got, want)
		}
		if a.Document() != nil || a.Executes() || a.Reply != nil {
			t.Errorf("%q: document %q, reply %v; want nothing executed", body, a.Document(), a.Reply)
		}
	}
}

// TestReadAnswerForwardsEveryCommand: an XMLMSG document goes to the proxy
// whole, the commands hookd does not know included; the proxy decides.
func TestReadAnswerForwardsEveryCommand(t *testing.T) {
	t.Parallel()
	body := `<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- made by events.php -->
<module secret="S&amp;cret">
  <islLight>
    <session id="5a1b"><transfer to="desk-2" note="caf` + "\xe9" + `"/><drop/></session>
  </islLight>
  <islPronto><chat id="17"><close reason="a &lt; b"/></chat></islPronto>
  <queryDatabase><domains/></queryDatabase>
  <x:audit xmlns:x="urn:x">left out</x:audit>
</module>`
	a, err := xmlmsg.ReadAnswer([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(a.Document())
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<module secret="S&amp;cret">`,
		`<session id="5a1b"><transfer to="desk-2" note="café"/><drop/></session>`,
		`<islPronto><chat id="17"><close reason="a &lt; b"/></chat></islPronto>`,
		`<queryDatabase><domains/></queryDatabase>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}
	for _, not := range []string{"events.php", "audit", "urn:x", "ISO-8859-1"} {
		if strings.Contains(doc, not) {
			t.Errorf("document carries %q:\n%s", not, doc)
		}
	}
	if got, want := a.Summary(), "xmlmsg: drop 5a1b; +4 unknown to hookd, forwarded; 1 namespaced left out"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if fmt.Sprintf("%v %#v %s", a, a, a) == "" || strings.Contains(fmt.Sprintf("%v %+v %#v", a, a, a), "cret") {
		t.Errorf("printing an answer shows the secret: %#v", a)
	}
	back, err := xmlmsg.Parse(a.Document())
	if err != nil || back.Secret != "S&cret" || len(back.Commands) != 1 || len(back.Unknown) != 3 {
		t.Errorf("document parses back to %#v (%+v), %v", back, back, err)
	}
}

// TestReadAnswerForwardsUnchecked: a <module> document hookd cannot check
// (a known command written another way) is forwarded all the same, and the
// summary says what hookd could not check.
func TestReadAnswerForwardsUnchecked(t *testing.T) {
	t.Parallel()
	body := clientSend(`<msgbox>1</msgbox><title>Note</title>`)
	a, err := xmlmsg.ReadAnswer([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := `xmlmsg forwarded unchecked: line 1: session "a": <send to="client"> needs a non-empty <message>`
	if got := a.Summary(); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if doc := string(a.Document()); !strings.Contains(doc, `<send to="client"><msgbox>1</msgbox><title>Note</title></send>`) {
		t.Errorf("document:\n%s", doc)
	}
	// A <module> whose only element is namespaced has nothing to forward.
	a, err = xmlmsg.ReadAnswer([]byte(`<module secret="s"><x:audit xmlns:x="urn:x"/></module>`))
	if err != nil || a.Document() != nil || a.Summary() != "xmlmsg: nothing to forward; 1 namespaced left out" {
		t.Errorf("namespaced only: %v %q %v", a, a.Document(), err)
	}
	// A <module> with no element in it has nothing to forward.
	a, err = xmlmsg.ReadAnswer([]byte(`<module secret="s"> </module>`))
	if err != nil || a.Document() != nil || !strings.HasPrefix(a.Summary(), "xmlmsg: nothing to forward (line 1: <module> holds no product element") {
		t.Errorf("empty module: %v %q %v", a, a.Document(), err)
	}
}

// TestReadAnswerDocumentMeansTheSame: for every valid reply of the tables,
// the forwarded document parses to the same reply (namespaced items,
// which are left out, aside).
func TestReadAnswerDocumentMeansTheSame(t *testing.T) {
	t.Parallel()
	for _, tt := range validTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := xmlmsg.ReadAnswer([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Reply, tt.want) {
				t.Errorf("Reply = %#v, want %#v", a.Reply, tt.want)
			}
			if tt.want.NoMessage {
				if a.Document() != nil || a.Summary() != tt.want.Summary() {
					t.Errorf("nomessage: document %q, summary %q", a.Document(), a.Summary())
				}
				return
			}
			back, err := xmlmsg.Parse(a.Document())
			if err != nil {
				t.Fatalf("Parse(Document()): %v\n%s", err, a.Document())
			}
			if strings.Contains(tt.body, "xmlns") {
				return
			}
			if !reflect.DeepEqual(back, tt.want) {
				t.Errorf("Parse(Document()) =\n%#v\nwant\n%#v\ndocument:\n%s", *back, *tt.want, a.Document())
			}
			again, err := xmlmsg.ReadAnswer(a.Document())
			if err != nil || string(again.Document()) != string(a.Document()) {
				t.Errorf("the document is not stable: %v\n%s\nthen\n%s", err, a.Document(), again.Document())
			}
		})
	}
}

// TestReadAnswerDocumentBound: a document that grows past MaxDocument when
// re-encoded is refused, never cut.
func TestReadAnswerDocumentBound(t *testing.T) {
	t.Parallel()
	body := `<module><islPronto><x><![CDATA[` + strings.Repeat("<", 20000) + `]]></x></islPronto></module>`
	_, err := xmlmsg.ReadAnswer([]byte(body))
	if !errors.Is(err, xmlmsg.ErrTooLarge) || !strings.Contains(err.Error(), "at most 63488 are allowed (MaxDocument)") {
		t.Errorf("ReadAnswer: %v; want the MaxDocument bound", err)
	}
}

// TestJudge: one rule for scripts and plugins.
func TestJudge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body    string
		strict  bool
		summary string // prefix; "" = an error
		forward bool
	}{
		{"<nomessage/>", true, "nomessage", false},
		{"<nomessage/>", false, "nomessage", false},
		{inSession("<drop/>"), true, "xmlmsg: drop a", true},
		{inSession("<transfer/>"), true, "xmlmsg: 1 unknown to hookd, forwarded", true},
		{"<result>OK</result>", true, "acknowledged: XML not an XMLMSG document, nothing executed", false},
		{"<result>OK</result>", false, "acknowledged: XML not an XMLMSG document, nothing executed", false},
		{"OK", true, "", false},
		{"OK", false, "reply not XML (not strict: ignored)", false},
		{"", true, "", false},
		{" \n", false, "empty reply (not strict: accepted)", false},
		{"<!DOCTYPE html><html/>", true, "", false},
		{"<!DOCTYPE html><html/>", false, `reply refused (not strict: ignored): line 1: DTDs are not allowed, found "<!DOCTYPE html>"`, false},
		{inSession(strings.Repeat("<drop/>", xmlmsg.MaxCommands+1)), false, "reply refused (not strict: ignored): line 1: more than 100 commands", false},
	} {
		summary, doc, err := xmlmsg.Judge([]byte(tc.body), tc.strict)
		switch {
		case tc.summary == "" && err == nil:
			t.Errorf("Judge(%q, strict=%v) = %q; want an error", tc.body, tc.strict, summary)
		case tc.summary != "" && (err != nil || !strings.HasPrefix(summary, tc.summary)):
			t.Errorf("Judge(%q, strict=%v) = %q, %v; want %q", tc.body, tc.strict, summary, err, tc.summary)
		case (doc != nil) != tc.forward:
			t.Errorf("Judge(%q, strict=%v) forwards %q; want forwarding %v", tc.body, tc.strict, doc, tc.forward)
		}
	}
}

// TestMerge: the documents of a combined delivery's answers become one,
// every command in order; another secret or an oversized result is
// refused.
func TestMerge(t *testing.T) {
	t.Parallel()
	doc := func(body string) []byte {
		t.Helper()
		a, err := xmlmsg.ReadAnswer([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return a.Document()
	}
	a := doc(`<module secret="s&gt;1"><islLight><session id="a"><drop/></session></islLight></module>`)
	b := doc(`<module secret="s&gt;1"><islPronto><chat id="c"><close/></chat></islPronto></module>`)
	c := doc(`<module secret="other"><islLight><session id="c"><drop/></session></islLight></module>`)
	merged, err := xmlmsg.Merge(a, nil, b, a)
	if err != nil {
		t.Fatal(err)
	}
	r, err := xmlmsg.Parse(merged)
	if err != nil || r.Secret != "s>1" || len(r.Commands) != 2 || len(r.Unknown) != 1 ||
		!strings.Contains(string(merged), `</islLight><islPronto><chat id="c"><close/></chat></islPronto><islLight>`) {
		t.Errorf("merged %s: %v %v", merged, r, err)
	}
	if one, err := xmlmsg.Merge(nil, b, nil); err != nil || string(one) != string(b) {
		t.Errorf("one document: %s, %v", one, err)
	}
	if none, err := xmlmsg.Merge(nil, nil); err != nil || none != nil {
		t.Errorf("no document: %s, %v", none, err)
	}
	if _, err := xmlmsg.Merge(a, c); !errors.Is(err, xmlmsg.ErrNotXMLMSG) {
		t.Errorf("another secret: %v", err)
	}
	big := doc(`<module><islPronto><x>` + strings.Repeat("y", 40000) + `</x></islPronto></module>`)
	if _, err := xmlmsg.Merge(big, big); !errors.Is(err, xmlmsg.ErrTooLarge) {
		t.Errorf("over MaxDocument: %v", err)
	}
	if _, err := xmlmsg.Merge([]byte("<module/>"), a); err == nil {
		t.Error("a document not made by Answer.Document was merged")
	}
}

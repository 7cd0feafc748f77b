package xmlmsg_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// FuzzParse checks that Parse never panics, that every refusal wraps
// exactly one sentinel, and that every accepted reply round-trips through
// Document.
//
// The seeds are the tables of the other tests, except the few bodies
// longer than 4 KiB (the limit tests): the fuzzer mutates and minimises
// large inputs slowly, and the table tests already cover them.
func FuzzParse(f *testing.F) {
	seed := func(body string) {
		if len(body) <= 4<<10 {
			f.Add([]byte(body))
		}
	}
	for _, tt := range validTests {
		seed(tt.body)
	}
	for _, tt := range invalidTests {
		seed(tt.body)
	}
	for _, tt := range securityTests {
		seed(tt.body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := xmlmsg.Parse(body)
		if err != nil {
			if r != nil {
				t.Fatalf("Parse returned %v with error %v", r, err)
			}
			checkOneSentinel(t, err)
			if msg := err.Error(); msg == "" || strings.ToLower(msg[:1]) != msg[:1] {
				t.Fatalf("error message %q must start in lower case", msg)
			}
			return
		}
		if len(r.Commands)+len(r.Unknown) > xmlmsg.MaxCommands {
			t.Fatalf("reply has %d commands and %d unknown, over MaxCommands", len(r.Commands), len(r.Unknown))
		}
		for _, c := range r.Commands {
			if c.Session == "" || len(c.Message) > xmlmsg.MaxMessage {
				t.Fatalf("invalid command accepted: %+v", c)
			}
		}
		_ = r.Summary()
		checkRoundTrip(t, r)
	})
}

// FuzzReadAnswer checks that ReadAnswer never panics, that a refusal wraps
// exactly one sentinel, that Parse acknowledges nothing ReadAnswer
// refuses, and that a forwarded document is within MaxDocument, reads back
// as an answer and forwards itself unchanged.
func FuzzReadAnswer(f *testing.F) {
	for _, tt := range validTests {
		if len(tt.body) <= 4<<10 {
			f.Add([]byte(tt.body))
		}
	}
	for _, tt := range invalidTests {
		if len(tt.body) <= 4<<10 {
			f.Add([]byte(tt.body))
		}
	}
	f.Add([]byte(`<module secret="s"><islPronto a="1&#9;2"><x>t&#13;u</x><![CDATA[<&>]]></islPronto></module>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := xmlmsg.ReadAnswer(body)
		if err != nil {
			checkOneSentinel(t, err)
			if _, perr := xmlmsg.Parse(body); perr == nil {
				t.Fatalf("Parse accepts what ReadAnswer refuses: %v", err)
			}
			return
		}
		_ = a.Summary()
		doc := a.Document()
		if doc == nil {
			return
		}
		if len(doc) > xmlmsg.MaxDocument {
			t.Fatalf("document of %d bytes", len(doc))
		}
		back, err := xmlmsg.ReadAnswer(doc)
		if err != nil {
			t.Fatalf("ReadAnswer(Document()): %v\n%s", err, doc)
		}
		if string(back.Document()) != string(doc) {
			t.Fatalf("document not stable:\n%s\nthen\n%s", doc, back.Document())
		}
	})
}

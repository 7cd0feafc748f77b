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

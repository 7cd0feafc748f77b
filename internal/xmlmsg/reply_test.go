package xmlmsg_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// TestDocumentRoundTrip parses every valid reply, re-serialises it, and
// parses the result again: the secret and the commands must survive, and
// nothing unknown may be forwarded.
func TestDocumentRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range validTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := xmlmsg.Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkRoundTrip(t, r)
		})
	}
}

// checkRoundTrip is shared with FuzzParse.
func checkRoundTrip(t *testing.T, r *xmlmsg.Reply) {
	t.Helper()
	doc := r.Document()
	if r.NoMessage || len(r.Commands) == 0 {
		if doc != nil {
			t.Fatalf("Document = %q, want nil for %s", doc, r)
		}
		return
	}
	back, err := xmlmsg.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(Document()): %v\ndocument:\n%s", err, doc)
	}
	want := &xmlmsg.Reply{Secret: r.Secret, Commands: r.Commands}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("Parse(Document()) =\n%#v\nwant\n%#v\ndocument:\n%s", *back, *want, doc)
	}
	if again := back.Document(); !bytes.Equal(again, doc) {
		t.Fatalf("Document is not stable:\n%s\nthen\n%s", doc, again)
	}
}

// TestDocumentEscapes builds replies by hand with every character that
// needs escaping in ids, messages, labels and the secret.
func TestDocumentEscapes(t *testing.T) {
	t.Parallel()
	const nasty = `a<b>&c"d'e` + "\tf\ng\rh ]]> &amp; </message></send></session>"
	tests := []struct {
		name  string
		reply *xmlmsg.Reply
	}{
		{"secret", &xmlmsg.Reply{Secret: nasty, Commands: []xmlmsg.Command{drop("a")}}},
		{"session id", &xmlmsg.Reply{Commands: []xmlmsg.Command{drop(nasty)}}},
		{"message", &xmlmsg.Reply{Commands: []xmlmsg.Command{msgbox("a", nasty)}}},
		{"chat and label", &xmlmsg.Reply{Commands: []xmlmsg.Command{{Session: "a", Kind: xmlmsg.KindChat, Message: nasty, Label: nasty}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := tt.reply.Document()
			if bytes.Contains(doc, []byte("<b>")) || bytes.Contains(doc, []byte(`c"d`)) || bytes.Contains(doc, []byte("&c")) {
				t.Errorf("Document did not escape:\n%s", doc)
			}
			checkRoundTrip(t, tt.reply)
		})
	}
}

func TestDocumentNothingToForward(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply *xmlmsg.Reply
	}{
		{"nil", nil},
		{"nomessage", &xmlmsg.Reply{NoMessage: true}},
		{"only unknown", &xmlmsg.Reply{Secret: "s", Unknown: []string{"module: unknown product <islPronto>"}}},
		{"unknown kind", &xmlmsg.Reply{Commands: []xmlmsg.Command{{Session: "a", Kind: "transfer"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if doc := tt.reply.Document(); doc != nil {
				t.Errorf("Document = %q, want nil", doc)
			}
		})
	}
}

// TestDocumentGroupsSessions keeps the order of the commands and opens a
// new <session> element whenever the session changes.
func TestDocumentGroupsSessions(t *testing.T) {
	t.Parallel()
	r := &xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{
		drop("a"), msgbox("a", "x"), drop("b"), drop("a"), {Session: "c", Kind: "transfer"},
	}}
	doc := string(r.Document())
	if got := strings.Count(doc, "<session "); got != 3 {
		t.Errorf("Document has %d <session> elements, want 3:\n%s", got, doc)
	}
	if strings.Contains(doc, `"c"`) {
		t.Errorf("Document kept a command of unknown kind:\n%s", doc)
	}
	back, err := xmlmsg.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if want := r.Commands[:4]; !reflect.DeepEqual(back.Commands, want) {
		t.Errorf("commands = %v, want %v", back.Commands, want)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply *xmlmsg.Reply
		want  string
	}{
		{"nil", nil, "<nil>"},
		{"nomessage", &xmlmsg.Reply{NoMessage: true}, "nomessage"},
		{"nomessage with unknown", &xmlmsg.Reply{NoMessage: true, Unknown: []string{"x"}}, "nomessage; +1 unknown"},
		{"documented", &xmlmsg.Reply{Secret: "s", Commands: []xmlmsg.Command{cmdMsgbox, cmdChat, cmdDrop}}, "xmlmsg: msgbox 5a1b; chat 5a1c; drop 5a1d"},
		{"drop then msgbox", &xmlmsg.Reply{Commands: []xmlmsg.Command{cmdDrop, cmdMsgbox}, Unknown: []string{"x"}}, "xmlmsg: drop 5a1d; msgbox 5a1b; +1 unknown"},
		{"only unknown", &xmlmsg.Reply{Unknown: []string{"x", "y"}}, "xmlmsg: nothing to forward; +2 unknown"},
		{"more than five", &xmlmsg.Reply{Commands: repeat(drop("a"), 7)}, "xmlmsg: drop a; drop a; drop a; drop a; drop a; +2 more"},
		{"odd id quoted", &xmlmsg.Reply{Commands: []xmlmsg.Command{drop("a b\nc")}}, `xmlmsg: drop "a b\nc"`},
		{"long id cut", &xmlmsg.Reply{Commands: []xmlmsg.Command{drop(strings.Repeat("x", 40))}}, `xmlmsg: drop "` + strings.Repeat("x", 32) + `"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.reply.Summary(); got != tt.want {
				t.Errorf("Summary = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReplyHidesSecret prints a reply every way a caller might log it.
func TestReplyHidesSecret(t *testing.T) {
	t.Parallel()
	r, err := xmlmsg.Parse([]byte(documented))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("reply", "reply", r)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("reply", "reply", r)
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s", r, r, r, r), logged.String()} {
		if strings.Contains(s, "DATABASE_SECRET") {
			t.Errorf("printed the secret: %s", s)
		}
		if !strings.Contains(s, "xmlmsg: msgbox 5a1b; chat 5a1c; drop 5a1d") {
			t.Errorf("printed %q, want the summary", s)
		}
	}
}

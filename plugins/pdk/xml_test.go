//go:build !wasip1

package pdk

import (
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// Replies must be what hookd's own XMLMSG parser reads back: the same
// secret and commands, after its trimming, or an error of ours when it
// would refuse them.

func FuzzCommands(f *testing.F) {
	f.Add("s3cret", "5a1b", "Hello <you> & \"them\"", "Bot's", "other")
	f.Add("", " ", "\x00\t\n\r", "\ufffe", "\xff")
	f.Add("a\"b", "id&1", "  padded  ", "", "5a1b")
	f.Fuzz(func(t *testing.T, secret, session, text, label, other string) {
		cmds := []Command{MessageBox(session, text), Chat(session, text, label), Drop(session), Drop(other)}
		doc, err := renderXMLMSG(secret, slicesClone(cmds))
		if err != nil {
			return // a reply hookd would refuse: checked in TestOnEvent
		}
		r, perr := xmlmsg.Parse(doc)
		if perr != nil {
			t.Fatalf("%s: %v", doc, perr)
		}
		if r.Secret != trim(validXML(secret)) {
			t.Errorf("secret %q, want %q", r.Secret, trim(validXML(secret)))
		}
		want := []xmlmsg.Command{
			{Session: trim(validXML(session)), Kind: xmlmsg.KindMsgbox, Message: trim(validXML(text))},
			{Session: trim(validXML(session)), Kind: xmlmsg.KindChat, Message: trim(validXML(text)), Label: trim(validXML(label))},
			{Session: trim(validXML(session)), Kind: xmlmsg.KindDrop},
			{Session: trim(validXML(other)), Kind: xmlmsg.KindDrop},
		}
		if len(r.Commands) != len(want) || len(r.Unknown) > 0 {
			t.Fatalf("%s: commands %+v unknown %v", doc, r.Commands, r.Unknown)
		}
		for i := range want {
			if r.Commands[i] != want[i] {
				t.Errorf("%s: command %d = %+v, want %+v", doc, i, r.Commands[i], want[i])
			}
		}
	})
}

func slicesClone(c []Command) []Command { return append([]Command(nil), c...) }

func TestEscaping(t *testing.T) {
	doc, err := renderXMLMSG(`"<&>'`, []Command{Chat("1", "a<b>&\"c\"'\t\n\r", "x&y")})
	want := `<module secret="&#34;&lt;&amp;&gt;&#39;"><islLight><session id="1"><send to="desk"><chat>1</chat>` +
		`<message>a&lt;b&gt;&amp;&#34;c&#34;&#39;&#x9;&#xA;&#xD;</message><cp_label>x&amp;y</cp_label></send></session></islLight></module>`
	if err != nil || string(doc) != want {
		t.Errorf("got  %s (%v)\nwant %s", doc, err, want)
	}
	if got := validXML("ok\x00\xff\ufffe\U0001F600"); got != "ok\ufffd\ufffd\ufffd\U0001F600" {
		t.Errorf("validXML = %q", got)
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add("k", "v", "a b&c=d+e%", "ü")
	f.Add("", "", "=", "&")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := map[string]string{k1: v1, k2: v2}
		v := url.Values{}
		for k, x := range in {
			v.Set(k, x)
		}
		got := parseForm([]byte(v.Encode()))
		if !maps.Equal(got, in) {
			t.Errorf("%q: %q, want %q", v.Encode(), got, in)
		}
	})
}

func FuzzParseFormRaw(f *testing.F) {
	f.Add("a=1&b=%41&c=%zz&d&=e&&f=g+h")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := url.ParseQuery(s)
		if err != nil || strings.Contains(s, ";") {
			return // invalid escapes: hookd never sends them
		}
		got := parseForm([]byte(s))
		for k, vs := range want {
			if got[k] != vs[len(vs)-1] {
				t.Errorf("%q: %q = %q, want %q", s, k, got[k], vs[len(vs)-1])
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	})
}

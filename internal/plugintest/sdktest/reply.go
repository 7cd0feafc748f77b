package sdktest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// testCommands: commands for two sessions make one reply, one <session>
// element each, with any text escaped and the secret kept.
func testCommands(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	text := "Hi <b>&amp;</b> \"quoted\" 'single'\n\ttab ü ☃ 😀 \x01 end"
	label := `Bot & <Co> "x"`
	secret := `s3"cr<e>t&`
	doc := Reply(t, p, "commands", map[string]string{
		"SESSIONID": "5a1b", "other": "s<2>", "text": text, "label": label, "secret": secret,
	})
	r, err := xmlmsg.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("reply %s does not parse: %v", doc, err)
	}
	if r.Secret != secret {
		t.Errorf("secret %q, want %q", r.Secret, secret)
	}
	wantText := strings.Replace(text, "\x01", "\uFFFD", 1) // XML cannot carry U+0001
	want := []xmlmsg.Command{
		{Session: "5a1b", Kind: xmlmsg.KindMsgbox, Message: wantText},
		{Session: "5a1b", Kind: xmlmsg.KindChat, Message: wantText, Label: label},
		{Session: "5a1b", Kind: xmlmsg.KindDrop},
		{Session: "s<2>", Kind: xmlmsg.KindDrop},
	}
	if len(r.Commands) != len(want) {
		t.Fatalf("commands %+v, want %+v", r.Commands, want)
	}
	for i, c := range r.Commands {
		if c != want[i] {
			t.Errorf("command %d = %+v, want %+v", i, c, want[i])
		}
	}
	if n := strings.Count(doc, "<session "); n != 2 {
		t.Errorf("%d <session> elements, want 2 (one per session): %s", n, doc)
	}
	if len(r.Unknown) > 0 {
		t.Errorf("unknown items %v", r.Unknown)
	}
}

// testSingleCommand: a command alone is a whole reply, with the secret
// set apart.
func testSingleCommand(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	doc := Reply(t, p, "drop", map[string]string{"SESSIONID": "5a1c", "secret": "db-secret"})
	want := `<module secret="db-secret"><islLight><session id="5a1c"><drop/></session></islLight></module>`
	if doc != want {
		t.Errorf("reply %s, want %s", doc, want)
	}
}

// testNoMessage: <nomessage/> is no reply at all.
func testNoMessage(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	for _, op := range append([]string{"nomessage"}, g.NoMessageOps...) {
		if out := Call(t, p, op, nil); out.Status != 0 || out.Reply != nil || out.Error != "" {
			t.Errorf("op %s: status %d reply %q error %q, want 0, none (<nomessage/>)", op, out.Status, out.Reply, out.Error)
		}
	}
}

// testFailures: a failure has its status and message and no reply, and a
// reply the SDK refuses to send is a permanent failure saying why; the
// instance serves the next event.
func testFailures(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	for _, tc := range append([]Failure{
		{Op: "fail", Text: "upstream not ready", Session: "5a1b", Status: 1, Msg: "upstream not ready"},
		{Op: "failperm", Text: "bad config", Session: "5a1b", Status: 2, Msg: "bad config"},
		{Op: "invalid", Session: "5a1b", Status: 2, Msg: `pdk: reply not sent: msgbox for session "5a1b": the message is empty`},
		{Op: "drop", Session: "", Status: 2, Msg: "pdk: reply not sent: drop: the session id is empty"},
	}, g.Failures...) {
		out := Call(t, p, tc.Op, map[string]string{"text": tc.Text, "SESSIONID": tc.Session})
		if out.Status != tc.Status || out.Error != tc.Msg || out.Reply != nil {
			t.Errorf("op %s: status %d error %q reply %q, want %d %q and no reply", tc.Op, out.Status, out.Error, out.Reply, tc.Status, tc.Msg)
		}
		if tc.Logged != "" {
			if len(out.Logs) == 0 || out.Logs[0].Level != hostapi.LevelError || !strings.Contains(out.Logs[0].Text, tc.Logged) {
				t.Errorf("op %s: no error logged with %q: %v", tc.Op, tc.Logged, out.Logs)
			}
		}
	}
	// A failure, or a recovered panic, leaves the instance fit for the
	// next event.
	if out := Call(t, p, "nomessage", nil); out.Status != 0 {
		t.Errorf("after the failures: status %d (%s)", out.Status, out.Error)
	}
}

// testReplyTooLarge: a reply over the plugin's max_reply is the host's
// error, not a truncated reply.
func testReplyTooLarge(t *testing.T, g Guest) {
	p := plugintest.Load(t, g.Build(t, g.TestGuest), wasmhost.Limits{Instances: 1, MaxReply: 100}, hostfn.Grants{})
	_, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "commands", "text": strings.Repeat("x", 200), "other": "x"}))
	if !errors.Is(err, wasmhost.ErrReplyTooLarge) {
		t.Errorf("err %v, want ErrReplyTooLarge", err)
	}
}

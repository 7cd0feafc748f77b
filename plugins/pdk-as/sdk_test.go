package pdkas_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// These tests run the SDK for real: test/guest.ts, compiled with asc as a
// plugin author compiles, in hookd's engine. The "op" field of each event
// picks what the guest does (see its source). They are the Go SDK's tests
// (plugins/pdk/guest_test.go), where the two SDKs promise the same.

func TestMain(m *testing.M) { plugintest.Main(m) }

const testGuest = "test/guest.ts"

// guest loads the test guest with g, one instance.
func guest(t *testing.T, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, buildAS(t, testGuest), wasmhost.Limits{Instances: 1}, g)
}

// call runs op with the given fields and fails t on a host error.
func call(t *testing.T, p *wasmhost.Plugin, op string, fields map[string]string) wasmhost.Outcome {
	t.Helper()
	f := map[string]string{"op": op}
	maps.Copy(f, fields)
	out, err := p.Call(context.Background(), plugintest.Event(f))
	if err != nil {
		t.Fatalf("op %s: %v; logs %v", op, err, out.Logs)
	}
	return out
}

// reply runs op and returns its reply, failing t unless the status is 0.
func reply(t *testing.T, p *wasmhost.Plugin, op string, fields map[string]string) string {
	t.Helper()
	out := call(t, p, op, fields)
	if out.Status != 0 {
		t.Fatalf("op %s: status %d (%s); logs %v", op, out.Status, out.Error, out.Logs)
	}
	return string(out.Reply)
}

func TestEventGet(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	long := strings.Repeat("0123456789abcdef", 640) // 10 KiB, past the first probe
	fields := map[string]string{
		"long":    long,
		"b511":    strings.Repeat("x", 511),
		"b512":    strings.Repeat("y", 512), // the scratch buffer's size
		"b513":    strings.Repeat("z", 513),
		"empty":   "",
		"special": "a&b=c+d%20e ü€😀\n<&\"'>",
		"Ω name":  "unicode name",
	}
	for name, want := range fields {
		f := maps.Clone(fields)
		f["name"] = name
		if got := reply(t, p, "get", f); got != "true:"+xmlText(want) {
			t.Errorf("get(%q) = %.40q (%d bytes), want %d bytes", name, got, len(got), len(want)+5)
		}
	}
	if got := reply(t, p, "get", map[string]string{"name": "missing"}); got != "false:" {
		t.Errorf("get(missing) = %q", got)
	}
	if got := reply(t, p, "get", map[string]string{"name": "sessionid"}); got != "false:" {
		t.Errorf("names are case-sensitive, got %q", got)
	}
	if got := reply(t, p, "get", map[string]string{"name": "EVENT_ID"}); got != "true:"+plugintest.Event(nil).ID {
		t.Errorf("get(EVENT_ID) = %q", got)
	}
}

// xmlText is s as the guest's xml() reply carries it: the reply is bytes,
// sent as they are (the guest does not escape what it echoes).
func xmlText(s string) string { return s }

// TestEventBytes: values that are not UTF-8 read as U+FFFD per bad byte
// with get, and as sent with getBytes.
func TestEventBytes(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	bad := "a\xffb\xc3(c\xe2\x82d\xf0\x9f\x98\x80" // invalid, a truncated pair, a cut sequence, then a valid 😀
	if got, want := reply(t, p, "get", map[string]string{"name": "bad", "bad": bad}), "true:a\uFFFDb\uFFFD(c\uFFFD\uFFFDd😀"; got != want {
		t.Errorf("get of invalid UTF-8 = %q, want %q", got, want)
	}
	if got, want := reply(t, p, "getbytes", map[string]string{"name": "bad", "bad": bad}), "61ff62c328"; !strings.HasPrefix(got, want) {
		t.Errorf("getBytes = %q, want the bytes as sent (%s…)", got, want)
	}
	if got := reply(t, p, "getbytes", map[string]string{"name": "missing"}); got != "null" {
		t.Errorf("getBytes(missing) = %q", got)
	}
}

func TestEventName(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for event, want := range map[string]string{"NEW SESSION": "NEWSESSION", "NEWSESSION": "NEWSESSION", "STOP": "STOP"} {
		if got := reply(t, p, "name", map[string]string{"EVENT": event}); got != want {
			t.Errorf("name() for EVENT %q = %q, want %q", event, got, want)
		}
	}
}

func TestEventFields(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	ev := plugintest.Event(map[string]string{
		"op":      "fields",
		"long":    strings.Repeat("€", 3000),
		"special": "a&b=c+d%20e;f\x00g\n\"\\",
		"=&+% ":   "name of markup",
		"empty":   "",
		"emoji 😀": "😀",
	})
	out, err := p.Call(context.Background(), ev)
	if err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Reply, &got); err != nil {
		t.Fatalf("%.200s: %v", out.Reply, err)
	}
	if !maps.Equal(got, ev.Fields) {
		for k, v := range ev.Fields {
			if got[k] != v {
				t.Errorf("field %q = %.40q, want %.40q", k, got[k], v)
			}
		}
		t.Errorf("fields() has %d fields, want %d", len(got), len(ev.Fields))
	}
	// Sorted by name, as the host sends them: Map keeps that order.
	if i, j := strings.Index(string(out.Reply), `"CPUSER_ID"`), strings.Index(string(out.Reply), `"DESK"`); i < 0 || j < i {
		t.Errorf("fields not in the event's order: %.200s", out.Reply)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	text := "Hi <b>&amp;</b> \"quoted\" 'single'\n\ttab ü ☃ 😀 \x01 end"
	label := `Bot & <Co> "x"`
	secret := `s3"cr<e>t&`
	doc := reply(t, p, "commands", map[string]string{
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

func TestSingleCommand(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	doc := reply(t, p, "drop", map[string]string{"SESSIONID": "5a1c", "secret": "db-secret"})
	want := `<module secret="db-secret"><islLight><session id="5a1c"><drop/></session></islLight></module>`
	if doc != want {
		t.Errorf("reply %s, want %s", doc, want)
	}
}

// TestXMLEscape: xmlEscape makes any text safe in an attribute and in
// element text, as Go's xml.EscapeText does.
func TestXMLEscape(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	text := "<&>\"' \t\r\n\x01 ü 😀 \uFFFE"
	doc := reply(t, p, "escape", map[string]string{"text": text})
	var x struct {
		A    string `xml:"a,attr"`
		Text string `xml:",chardata"`
	}
	if err := xmlUnmarshal(doc, &x); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	want := "<&>\"' \t\r\n\uFFFD ü 😀 \uFFFD"
	if x.A != want || x.Text != want {
		t.Errorf("attribute %q, text %q; want %q (%s)", x.A, x.Text, want, doc)
	}
}

func TestNoMessage(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	if out := call(t, p, "nomessage", nil); out.Status != 0 || out.Reply != nil || out.Error != "" {
		t.Errorf("status %d reply %q error %q, want 0, none (<nomessage/>)", out.Status, out.Reply, out.Error)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for _, tc := range []struct {
		op, text string
		session  string
		status   int32
		msg      string
	}{
		{"fail", "upstream not ready", "5a1b", 1, "upstream not ready"},
		{"failperm", "bad config", "5a1b", 2, "bad config"},
		{"failempty", "", "5a1b", 1, "pdk: failed without a message"},
		{"invalid", "", "5a1b", 2, `pdk: reply not sent: msgbox for session "5a1b": the message is empty`},
		{"drop", "", "", 2, "pdk: reply not sent: drop: the session id is empty"},
		{"toomany", "", "5a1b", 2, "pdk: reply not sent: 101 commands; at most 100 fit in a reply"},
	} {
		out := call(t, p, tc.op, map[string]string{"text": tc.text, "SESSIONID": tc.session})
		if out.Status != tc.status || out.Error != tc.msg || out.Reply != nil {
			t.Errorf("op %s: status %d error %q reply %q, want %d %q and no reply", tc.op, out.Status, out.Error, out.Reply, tc.status, tc.msg)
		}
	}
	if out := call(t, p, "nomessage", nil); out.Status != 0 {
		t.Errorf("after the failures: status %d (%s)", out.Status, out.Error)
	}
}

// TestAbort: a throw, or a runtime error (an index out of range), cannot be
// caught in AssemblyScript: the call traps with the message logged, the
// instance is replaced, and the next call runs on a fresh one.
func TestAbort(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for op, want := range map[string]string{
		"throw": "abort: boom <&\"> at ",
		"index": "abort: Index out of range at ~lib/array.ts:",
	} {
		out, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": op, "text": map[string]string{"throw": `boom <&">`, "index": "5"}[op]}))
		if !errors.Is(err, wasmhost.ErrTrap) {
			t.Errorf("op %s: err %v, want a trap", op, err)
		}
		if len(out.Logs) == 0 || out.Logs[0].Level != hostapi.LevelError || !strings.HasPrefix(out.Logs[0].Text, want) {
			t.Errorf("op %s: logs %v, want an error line %q…", op, out.Logs, want)
		}
		if out := call(t, p, "nomessage", nil); out.Status != 0 {
			t.Errorf("after %s: status %d (%s)", op, out.Status, out.Error)
		}
	}
}

func TestReplyTooLarge(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, buildAS(t, testGuest), wasmhost.Limits{Instances: 1, MaxReply: 100}, hostfn.Grants{})
	_, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "commands", "text": strings.Repeat("x", 200), "other": "x"}))
	if !errors.Is(err, wasmhost.ErrReplyTooLarge) {
		t.Errorf("err %v, want ErrReplyTooLarge", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg := `{"secret":"s\u00fc\"","limit":-9007199254740993,"ratio":2.5e-3,"on":true,"tags":["a","b"],"extra":{"b":true,"n":1.50,"a":[null,{}],"s":"\ud83d\ude00\ud800"}}`
	p := guest(t, hostfn.Grants{Config: json.RawMessage(cfg)})
	want := `{"secret":"sü\"","key":"default.pem","limit":-9007199254740993,"ratio":0.0025,"on":true,"tags":["a","b"],"extra":{"b":true,"n":1.50,"a":[null,{}],"s":"😀\uFFFD"}}`
	if got := reply(t, p, "config", nil); !jsonEqual(got, want) {
		t.Errorf("config %s, want %s", got, want)
	}

	none := guest(t, hostfn.Grants{})
	if got := reply(t, none, "config", nil); !jsonEqual(got, `{"secret":"","key":"default.pem","limit":7,"ratio":0.5,"on":false,"tags":[],"extra":null}`) {
		t.Errorf("no config: %s", got)
	}

	for raw, want := range map[string]string{
		`{"secret":"s","blok":["10.0.0.0/8"]}`: `pdk: config: unknown field "blok"`,
		`{"limit":"three"}`:                    "pdk: config: limit: cannot use a string as i64",
		`{"limit":1.5}`:                        "pdk: config: limit: cannot use the number 1.5 as i64",
		`{"limit":9223372036854775808}`:        "pdk: config: limit: cannot use the number 9223372036854775808 as i64",
		`{"on":"yes"}`:                         "pdk: config: on: cannot use a string as bool",
		`{"tags":"a"}`:                         "pdk: config: tags: cannot use a string as string[]",
		`{"tags":["a",1]}`:                     "pdk: config: tags[1]: cannot use the number 1 as string",
		`{"secret":["s"]}`:                     "pdk: config: secret: cannot use an array as string",
	} {
		bad := guest(t, hostfn.Grants{Config: json.RawMessage(raw)})
		if out := call(t, bad, "config", nil); out.Status != 2 || out.Error != want {
			t.Errorf("config %s: status %d error %q, want 2 %q", raw, out.Status, out.Error, want)
		}
	}
}

// jsonEqual compares two JSON documents as values (numbers as written).
func jsonEqual(a, b string) bool {
	var x, y any
	da, db := json.NewDecoder(strings.NewReader(a)), json.NewDecoder(strings.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// TestJSON: the reader accepts RFC 8259 JSON and writes it back as it was
// written (numbers included), and refuses what is not JSON with the
// offset.
func TestJSON(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for in, want := range map[string]string{
		` {"a" : [1, -0.5e+10, true, false, null, "x\ty\u00e9\/"], "b":{}} `: `{"a":[1,-0.5e+10,true,false,null,"x\ty\u00e9/"],"b":{}}`,
		`"\ud83d\ude00"`:            `"😀"`,
		`"\udc00 \ud800x"`:          `"\uFFFD \uFFFDx"`,
		`12345678901234567890123`:   `12345678901234567890123`,
		`{"a":1,"a":2}`:             `{"a":1,"a":2}`,
		`[`:                         "error invalid JSON at offset 1: unexpected end",
		`{"a" 1}`:                   "error invalid JSON at offset 5: want ':'",
		`[1,]`:                      "error invalid JSON at offset 3: unexpected character ']'",
		`01`:                        "error invalid JSON at offset 1: data after the JSON value",
		`"a` + "\x01" + `"`:         "error invalid JSON at offset 2: control character in string",
		`"\x"`:                      "error invalid JSON at offset 1: bad escape",
		`"\u12"`:                    "error invalid JSON at offset 3: bad \\u escape",
		`tru`:                       "error invalid JSON at offset 0: unexpected character 't'",
		`-`:                         "error invalid JSON at offset 1: bad number",
		strings.Repeat("[", 600):    "error invalid JSON at offset 512: nested too deeply",
		strings.Repeat(`{"a":`, 20): "error invalid JSON at offset 100: unexpected end",
	} {
		got := reply(t, p, "json", map[string]string{"text": in})
		if strings.HasPrefix(want, "error ") {
			if got != want {
				t.Errorf("parse %.40q: %q, want %q", in, got, want)
			}
			continue
		}
		if !jsonEqual(got, want) || strings.Contains(got, " ") && !strings.Contains(want, " ") {
			t.Errorf("parse %.40q: %s, want %s", in, got, want)
		}
	}
}

func TestJSONWriter(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	text := "q\" b\\ nl\n tab\t nul\x00 ü 😀 <&>"
	got := reply(t, p, "jsonwrite", map[string]string{"text": text})
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(got))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	quoted, _ := json.Marshal(text)
	want := `{"s":` + string(quoted) + `,"i":-9223372036854775808,"f":1.5,"whole":3,"nan":null,"b":true,"n":null,"a":[1,["x","y"],{}],"raw":{"k":[1,2]}}`
	if !jsonEqual(got, want) {
		t.Errorf("wrote %s\nwant  %s", got, want)
	}
	if v["whole"] != json.Number("3") {
		t.Errorf("a whole number is written %v, want 3", v["whole"])
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	out := call(t, p, "log", nil)
	want := []hostapi.LogLine{
		{Level: hostapi.LevelDebug, Source: "log", Text: "debug line"},
		{Level: hostapi.LevelInfo, Source: "log", Text: "info line"},
		{Level: hostapi.LevelWarn, Source: "log", Text: "warn line"},
		{Level: hostapi.LevelError, Source: "log", Text: "error 42 <line>"},
	}
	if len(out.Logs) != len(want) {
		t.Fatalf("logs %v, want %v", out.Logs, want)
	}
	for i, l := range out.Logs {
		if l != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, l, want[i])
		}
	}
	out = call(t, p, "trace", nil)
	if len(out.Logs) != 1 || out.Logs[0] != (hostapi.LogLine{Level: hostapi.LevelDebug, Source: "log", Text: "trace: traced 1.5 2.0"}) {
		t.Errorf("trace() logged %v", out.Logs)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{}) // deadline: plugintest.Timeout
	before := time.Now().UnixMilli()
	got := reply(t, p, "time", nil)
	after := time.Now().UnixMilli()
	now, left, _ := strings.Cut(got, " ")
	ms, _ := strconv.ParseInt(now, 10, 64)
	dl, _ := strconv.ParseInt(left, 10, 64)
	if ms < before || ms > after {
		t.Errorf("nowMs() = %d, not within [%d, %d]", ms, before, after)
	}
	// The call started after before and the guest asked before after, so
	// the time left is the timeout less at most after-before (and a
	// millisecond of rounding each side), however slow the machine.
	timeout := plugintest.Timeout.Milliseconds()
	if lo := timeout - (after - before) - 2; dl < lo || dl > timeout {
		t.Errorf("deadlineMs() = %d, want in [%d, %d]", dl, lo, timeout)
	}
}

// TestRandom: Math.random is seeded from the host's CSPRNG (WASI
// random_get), not AssemblyScript's "env" seed import.
func TestRandom(t *testing.T) {
	t.Parallel()
	a := reply(t, guest(t, hostfn.Grants{}), "random", nil)
	b := reply(t, guest(t, hostfn.Grants{}), "random", nil)
	if a == b {
		t.Errorf("two instances drew the same numbers %s", a)
	}
	for _, s := range strings.Fields(a + " " + b) {
		if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || f >= 1 {
			t.Errorf("Math.random() = %s", s)
		}
	}
}

// TestMemoryReclaimed: what a call allocates is collected after it (the
// minimal runtime's collector runs at the end of every call), so memory
// does not grow with the number of calls.
func TestMemoryReclaimed(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	var pages []string
	for range 40 {
		got := reply(t, p, "alloc", map[string]string{"text": "512"}) // 512 KiB each call, 20 MiB in all
		n, size, _ := strings.Cut(got, " ")
		if n != "524288" {
			t.Fatalf("alloc = %q", got)
		}
		pages = append(pages, size)
	}
	if first, last := pages[0], pages[len(pages)-1]; first != last {
		t.Errorf("memory grew from %s to %s pages over 40 calls: %v", first, last, pages)
	}
	// Over the module's maximum (128 pages, 8 MiB) in one call: a trap,
	// and the instance is replaced.
	if _, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "alloc", "text": "16384"})); !errors.Is(err, wasmhost.ErrTrap) {
		t.Errorf("16 MiB in one call: %v, want a trap", err)
	}
	if got := reply(t, p, "alloc", map[string]string{"text": "1"}); !strings.HasPrefix(got, "1024 ") {
		t.Errorf("after the trap: %q", got)
	}
}

func TestNoHandler(t *testing.T) {
	t.Parallel()
	wasm := buildAS(t, "test/nohandler.ts")
	_, err := plugintest.Engine(t).Load(context.Background(), wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	if !errors.Is(err, wasmhost.ErrRefused) || !strings.Contains(err.Error(), "pdk: no handler") {
		t.Errorf("err %v, want ErrRefused saying there is no handler", err)
	}
}

// TestEnvImportRefused: a plugin that uses an API AssemblyScript takes from
// a JavaScript host is refused at load, with the import named.
func TestEnvImportRefused(t *testing.T) {
	t.Parallel()
	wasm := buildAS(t, "test/envimport.ts")
	_, err := plugintest.Engine(t).Load(context.Background(), wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	want := "it imports env.Date.now; a plugin may import only from hookd_v1 and wasi_snapshot_preview1"
	if !errors.Is(err, wasmhost.ErrABI) || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want ErrABI saying %q", err, want)
	}
}

func TestSignJWT(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	p := guest(t, hostfn.Grants{Sign: sign, Keys: names})

	before := time.Now().Unix()
	token := reply(t, p, "sign", map[string]string{"key": "relay.pem", "claims": `{"sub":"plugin","n":[1,"<&>"]}`})
	tok, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token %q does not verify: %v", token, err)
	}
	c := tok.Claims.(jwt.MapClaims)
	iat, _ := c.GetIssuedAt()
	if iat == nil || iat.Unix() < before || c["sub"] != "plugin" || c["jti"] != plugintest.Event(nil).ID {
		t.Errorf("claims %v", c)
	}
	if n, _ := c["n"].([]any); len(n) != 2 || n[1] != "<&>" {
		t.Errorf("claim n = %v", c["n"])
	}

	for _, tc := range []struct{ name, key, claims, want string }{
		{"key not granted", "other.pem", `{}`, "E-5 pdk: jwt_sign: ERR_DENIED: not granted or not allowed"},
		{"claims set exp", "relay.pem", `{"exp":1}`, "E-1 pdk: jwt_sign: ERR_BAD_ARGUMENT"},
		{"claims not an object", "relay.pem", `[1]`, "E-1 pdk: jwt_sign: ERR_BAD_ARGUMENT"},
	} {
		if got := reply(t, p, "sign", map[string]string{"key": tc.key, "claims": tc.claims}); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.name, got, tc.want)
		}
	}
	if got := reply(t, guest(t, hostfn.Grants{}), "sign", map[string]string{"key": "relay.pem", "claims": "{}"}); !strings.HasPrefix(got, "E-5 ") {
		t.Errorf("no keys granted: %q, want E-5", got)
	}
}

// receiver is a loopback HTTP server that answers with what it got.
func receiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Test", r.Header.Get("X-Test"))
		switch r.URL.Path {
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		case "/big":
			b = []byte(strings.Repeat("x", 2<<20)) // cut at the default 1 MiB
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpGrants(t *testing.T, o hostfn.HTTPOptions) hostfn.Grants {
	t.Helper()
	o.AllowPrivate = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if o.Timeout == 0 {
		o.Timeout = plugintest.Timeout // not the production 5 s: a loaded machine may be slow to answer
	}
	h, err := hostfn.NewHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return hostfn.Grants{HTTP: h}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	srv := receiver(t)
	p := guest(t, httpGrants(t, hostfn.HTTPOptions{Allow: []string{srv.URL}, MaxRequests: 2}))

	body := `{"text":"<&>" , "ü": 1, "😀": "\n"}`
	got := reply(t, p, "fetch", map[string]string{"method": "PUT", "url": srv.URL + "/teapot", "text": "hdr ü", "body": body})
	var res struct {
		Status    int               `json:"status"`
		Header    map[string]string `json:"headers"`
		Body      string            `json:"body"`
		Truncated bool              `json:"truncated"`
	}
	if err := json.Unmarshal([]byte(got), &res); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if res.Status != http.StatusTeapot || res.Body != body || res.Header["X-Method"] != "PUT" || res.Header["X-Test"] != "hdr ü" || res.Truncated {
		t.Errorf("response %+v", res)
	}
	if got := reply(t, p, "fetch", map[string]string{"url": srv.URL + "/x"}); !strings.Contains(got, `"X-Method":"GET"`) {
		t.Errorf("default method: %s", got)
	}

	for _, tc := range []struct{ name, op, url, want string }{
		{"origin not allowed", "fetch", "http://127.0.0.1:1/x", "E-5 pdk: http_request: ERR_DENIED"},
		{"not a URL", "fetch", "::", "E-1 pdk: http_request: ERR_BAD_ARGUMENT"},
		{"request cap", "fetchmany", srv.URL, "200 200 E-6 pdk: http_request: ERR_LIMIT"},
	} {
		if got := reply(t, p, tc.op, map[string]string{"url": tc.url}); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.name, got, tc.want)
		}
	}

	denied := guest(t, hostfn.Grants{})
	if got := reply(t, denied, "fetch", map[string]string{"url": srv.URL}); !strings.HasPrefix(got, "E-5 ") {
		t.Errorf("without http_allow: %q, want E-5", got)
	}
}

// TestFetchLarge: a response of the default 1 MiB limit fits the module's
// memory (a response body is held three times: as the host's JSON, as a
// UTF-16 string, and half-built), cut where the host cuts it.
func TestFetchLarge(t *testing.T) {
	t.Parallel()
	srv := receiver(t)
	p := guest(t, httpGrants(t, hostfn.HTTPOptions{Allow: []string{srv.URL}}))
	got := reply(t, p, "fetchsize", map[string]string{"url": srv.URL + "/big"})
	f := strings.Fields(got)
	if len(f) != 4 || f[0] != "200" || f[1] != strconv.Itoa(1<<20) || f[2] != "truncated" {
		t.Errorf("fetch of 2 MiB: %q, want 200 %d truncated <pages>", got, 1<<20)
	}
	t.Logf("memory after a 1 MiB response: %s pages", f[len(f)-1])
}

// TestImports: a plugin imports only the host functions it calls, so the
// test guest, which uses no state, loads in a hookd without state
// functions, and no AssemblyScript "env" import is left.
func TestImports(t *testing.T) {
	t.Parallel()
	for _, entry := range []string{testGuest, "test/minimal.ts"} {
		imports := wasmImports(t, buildAS(t, entry))
		for _, imp := range imports {
			mod, name, _ := strings.Cut(imp, ".")
			switch {
			case mod == hostapi.ModuleName && strings.HasPrefix(name, "state_"):
				t.Errorf("%s imports %s, which it does not use", entry, imp)
			case mod == hostapi.ModuleName:
				if _, ok := hostapi.Signature(name); !ok {
					t.Errorf("%s imports %s, not in the ABI", entry, imp)
				}
			case imp == "wasi_snapshot_preview1.random_get":
			default:
				t.Errorf("%s imports %s", entry, imp)
			}
		}
	}
	min := wasmImports(t, buildAS(t, "test/minimal.ts"))
	if len(min) > 3 {
		t.Errorf("the minimal plugin imports %v", min)
	}
}

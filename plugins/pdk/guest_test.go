package pdk_test

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

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// These tests run package pdk for real: internal/testguest, built with the
// Go toolchain for wasip1, in hookd's engine. The "op" field of each
// event picks what the guest does (see its source).

func TestMain(m *testing.M) { plugintest.Main(m) }

const testguest = "github.com/hookrt/hookd/plugins/pdk/internal/testguest"

// guest loads the test guest with g, one instance.
func guest(t *testing.T, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.Build(t, testguest), wasmhost.Limits{Instances: 1}, g)
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
		"b255":    strings.Repeat("x", 255),
		"b256":    strings.Repeat("y", 256),
		"b257":    strings.Repeat("z", 257),
		"empty":   "",
		"special": "a&b=c+d%20e ü\n<&\"'>",
		"Ω name":  "unicode name",
	}
	for name, want := range fields {
		f := maps.Clone(fields)
		f["name"] = name
		if got := reply(t, p, "get", f); got != "true:"+want {
			t.Errorf("Get(%q) = %.40q (%d bytes), want %d bytes", name, got, len(got), len(want)+5)
		}
	}
	if got := reply(t, p, "get", map[string]string{"name": "missing"}); got != "false:" {
		t.Errorf("Get(missing) = %q", got)
	}
	if got := reply(t, p, "get", map[string]string{"name": "sessionid"}); got != "false:" {
		t.Errorf("names are case-sensitive, got %q", got)
	}
	if got := reply(t, p, "get", map[string]string{"name": "EVENT_ID"}); got != "true:"+plugintest.Event(nil).ID {
		t.Errorf("Get(EVENT_ID) = %q", got)
	}
}

func TestEventName(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for event, want := range map[string]string{"NEW SESSION": "NEWSESSION", "NEWSESSION": "NEWSESSION", "STOP": "STOP"} {
		if got := reply(t, p, "name", map[string]string{"EVENT": event}); got != want {
			t.Errorf("Name() for EVENT %q = %q, want %q", event, got, want)
		}
	}
}

func TestEventFields(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	ev := plugintest.Event(map[string]string{
		"op":      "fields",
		"long":    strings.Repeat("€", 3000),
		"special": "a&b=c+d%20e;f\x00g\n",
		"=&+% ":   "name of markup",
		"empty":   "",
	})
	out, err := p.Call(context.Background(), ev)
	if err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Reply, &got); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, ev.Fields) {
		for k, v := range ev.Fields {
			if got[k] != v {
				t.Errorf("field %q = %.40q, want %.40q", k, got[k], v)
			}
		}
		t.Errorf("Fields() has %d fields, want %d", len(got), len(ev.Fields))
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	text := "Hi <b>&amp;</b> \"quoted\" 'single'\n\ttab ü ☃ \x01 end"
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

func TestNoMessage(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for _, op := range []string{"nomessage", "nil"} {
		if out := call(t, p, op, nil); out.Status != 0 || out.Reply != nil || out.Error != "" {
			t.Errorf("op %s: status %d reply %q error %q, want 0, none (<nomessage/>)", op, out.Status, out.Reply, out.Error)
		}
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	p := guest(t, hostfn.Grants{})
	for _, tc := range []struct {
		op, text string
		status   int32
		msg      string
	}{
		{"fail", "upstream not ready", 1, "upstream not ready"},
		{"failperm", "bad config", 2, "bad config"},
		{"failnil", "", 1, "pdk: failed without an error"},
		{"panic", `boom <&">`, 1, `panic: boom <&">`},
		{"nilmap", "", 1, "panic: assignment to entry in nil map"},
		{"invalid", "", 2, `pdk: reply not sent: msgbox for session "5a1b": the message is empty`},
		{"drop", "", 2, "pdk: reply not sent: drop: the session id is empty"},
	} {
		out := call(t, p, tc.op, map[string]string{"text": tc.text, "SESSIONID": map[bool]string{true: "", false: "5a1b"}[tc.op == "drop"]})
		if out.Status != tc.status || out.Error != tc.msg || out.Reply != nil {
			t.Errorf("op %s: status %d error %q reply %q, want %d %q and no reply", tc.op, out.Status, out.Error, out.Reply, tc.status, tc.msg)
		}
		if strings.HasPrefix(tc.op, "panic") || tc.op == "nilmap" {
			if len(out.Logs) == 0 || out.Logs[0].Level != hostapi.LevelError || !strings.Contains(out.Logs[0].Text, "goroutine") {
				t.Errorf("op %s: no stack trace logged: %v", tc.op, out.Logs)
			}
		}
	}
	// A recovered panic leaves the instance fit for the next event.
	if out := call(t, p, "nomessage", nil); out.Status != 0 {
		t.Errorf("after the panics: status %d (%s)", out.Status, out.Error)
	}
}

func TestReplyTooLarge(t *testing.T) {
	t.Parallel()
	p := plugintest.Load(t, plugintest.Build(t, testguest), wasmhost.Limits{Instances: 1, MaxReply: 100}, hostfn.Grants{})
	_, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "commands", "text": strings.Repeat("x", 200), "other": "x"}))
	if !errors.Is(err, wasmhost.ErrReplyTooLarge) {
		t.Errorf("err %v, want ErrReplyTooLarge", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg := `{"secret":"s","key":"k.pem","url":"https://x.example","limit":3,"tags":["a","b"],"extra":{"b":true,"n":1.5}}`
	p := guest(t, hostfn.Grants{Config: json.RawMessage(cfg)})
	if got := reply(t, p, "config", nil); got != cfg {
		t.Errorf("config %s, want %s", got, cfg)
	}

	none := guest(t, hostfn.Grants{})
	if got := reply(t, none, "config", nil); got != `{"secret":"","key":"","url":"","limit":0,"tags":null,"extra":null}` {
		t.Errorf("no config: %s", got)
	}

	for raw, want := range map[string]string{
		`{"secret":"s","blok":["10.0.0.0/8"]}`: `pdk: config: unknown field "blok"`,
		`{"limit":"three"}`:                    "pdk: config: limit: cannot use a string as int",
	} {
		bad := guest(t, hostfn.Grants{Config: json.RawMessage(raw)})
		if out := call(t, bad, "config", nil); out.Status != 2 || out.Error != want {
			t.Errorf("config %s: status %d error %q, want 2 %q", raw, out.Status, out.Error, want)
		}
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
		t.Errorf("Now() = %d ms, not within [%d, %d]", ms, before, after)
	}
	// The call started after before and the guest asked before after, so
	// the time left is the timeout less at most after-before (and a
	// millisecond of rounding each side), however slow the machine.
	timeout := plugintest.Timeout.Milliseconds()
	if lo := timeout - (after - before) - 2; dl < lo || dl > timeout {
		t.Errorf("Deadline() = %d ms, want in [%d, %d]", dl, lo, timeout)
	}
}

func TestNoHandler(t *testing.T) {
	t.Parallel()
	wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/pdk/internal/nohandler")
	_, err := plugintest.Engine(t).Load(context.Background(), wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	if !errors.Is(err, wasmhost.ErrRefused) || !strings.Contains(err.Error(), "pdk: no handler") {
		t.Errorf("err %v, want ErrRefused saying there is no handler", err)
	}
}

// TestLoads: the SDK's guests fit the ABI and start, as hookd serve loads
// them.
func TestLoads(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{testguest, "github.com/hookrt/hookd/plugins/pdk/internal/nopguest"} {
		plugintest.Load(t, plugintest.Build(t, pkg), wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	}
}

// receiver is a loopback HTTP server that answers with what it got.
func receiver(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Test", r.Header.Get("X-Test"))
		if r.URL.Path == "/teapot" {
			w.WriteHeader(http.StatusTeapot)
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

	body := `{"text":"<&>" , "ü": 1}`
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

//go:build !wasip1

package pdk

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNoHostOutsideWasm(t *testing.T) {
	// Without a host, everything fails quietly, as outside a call.
	if v, ok := (&Event{}).Lookup("EVENT"); ok || v != "" {
		t.Errorf("Lookup = %q %v", v, ok)
	}
	if len((&Event{}).Fields()) != 0 || Deadline() != 0 {
		t.Error("no host: want no fields and no time")
	}
	if err := Config(&struct{}{}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Config: %v", err)
	}
	Log(LevelInfo, "nowhere")
}

func TestLookupProbes(t *testing.T) {
	h := useHost(t, &fakeHost{fields: map[string]string{}}, nil)
	for _, n := range []int{0, 1, 255, 256, 257, 4096, 70000} {
		want := strings.Repeat("v", n)
		h.fields["f"] = want
		h.calls["event_get"] = 0
		got, ok := (&Event{}).Lookup("f")
		if !ok || got != want {
			t.Errorf("%d bytes: got %d bytes, ok %v", n, len(got), ok)
		}
		calls := 1
		if n > len(getScratch) {
			calls = 2
		}
		if h.calls["event_get"] != calls {
			t.Errorf("%d bytes: %d event_get calls, want %d", n, h.calls["event_get"], calls)
		}
	}
	a := (&Event{}).Get("f")
	h.fields["f"] = "short"
	if b := (&Event{}).Get("f"); b != "short" || len(a) != 70000 {
		t.Errorf("values share memory: %d %q", len(a), b)
	}
	if v, ok := (&Event{}).Lookup("missing"); ok || v != "" {
		t.Errorf("missing: %q %v", v, ok)
	}
}

func TestName(t *testing.T) {
	h := useHost(t, &fakeHost{fields: map[string]string{}}, nil)
	for event, want := range map[string]string{"NEW SESSION": "NEWSESSION", "NEWSESSION": "NEWSESSION", "STOP": "STOP", "": ""} {
		h.fields["EVENT"] = event
		if got := (&Event{}).Name(); got != want {
			t.Errorf("Name() for %q = %q, want %q", event, got, want)
		}
	}
}

func TestFields(t *testing.T) {
	fields := map[string]string{"a b": "c&d=e", "+%": "100%", "ü": "€", "empty": "", "long": strings.Repeat("x", 5000)}
	useHost(t, &fakeHost{fields: fields}, nil)
	got := (&Event{}).Fields()
	if !maps.Equal(got, fields) {
		t.Errorf("Fields() = %v", got)
	}
	got["a b"] = "changed" // the caller's own map
	if again := (&Event{}).Fields(); again["a b"] != "c&d=e" {
		t.Error("Fields() returned a shared map")
	}
}

func TestOnEvent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     func(*Event) Reply
		status int32
		reply  string
		msg    string
	}{
		{"nil", func(*Event) Reply { return nil }, 0, "", ""},
		{"nomessage", func(*Event) Reply { return NoMessage() }, 0, "", ""},
		{"xml", func(*Event) Reply { return XML("<nomessage/>") }, 0, "<nomessage/>", ""},
		{"empty xml", func(*Event) Reply { return XML("") }, 0, "", ""},
		{"no commands", func(*Event) Reply { return Commands("s") }, 0, "", ""},
		{"drop", func(*Event) Reply { return Drop("s1") }, 0, `<module><islLight><session id="s1"><drop/></session></islLight></module>`, ""},
		{"fail", func(*Event) Reply { return Fail(errors.New("later")) }, 1, "", "later"},
		{"fail permanently", func(*Event) Reply { return FailPermanently(errors.New("never")) }, 2, "", "never"},
		{"panic string", func(*Event) Reply { panic("boom") }, 1, "", "panic: boom"},
		{"panic error", func(*Event) Reply { panic(errors.New("bad")) }, 1, "", "panic: bad"},
		{"panic int", func(*Event) Reply { panic(42) }, 1, "", "panic: 42"},
		{"panic struct", func(*Event) Reply { panic(struct{ A int }{1}) }, 1, "", "panic: a value of type struct { A int }"},
		{"panic nil map", func(*Event) Reply { var m map[int]int; m[1] = 1; return nil }, 1, "", "panic: assignment to entry in nil map"},
		{"zero command", func(*Event) Reply { return Command{} }, 2, "", "pdk: reply not sent: a zero Command; make commands with Drop, MessageBox or Chat"},
		{"too many", func(*Event) Reply { return Commands("", make([]Command, 101)...) }, 2, "", "pdk: reply not sent: 101 commands; at most 100 fit in a reply"},
		{"long message", func(*Event) Reply { return MessageBox("s", strings.Repeat("m", MaxMessage+1)) }, 2, "", `pdk: reply not sent: msgbox for session "s": the message is 4097 bytes, over 4096`},
		{"long after replacement", func(*Event) Reply { return MessageBox("s", strings.Repeat("m", MaxMessage-2)+"\x00") }, 2, "", `pdk: reply not sent: msgbox for session "s": the message is 4097 bytes, over 4096`},
		{"long label", func(*Event) Reply { return Chat("s", "m", strings.Repeat("l", MaxShort+1)) }, 2, "", `pdk: reply not sent: chat for session "s": the label is over 256 bytes`},
		{"long secret", func(*Event) Reply { return Commands(strings.Repeat("s", MaxShort+1), Drop("s")) }, 2, "", "pdk: reply not sent: the secret is over 256 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := useHost(t, &fakeHost{}, tc.fn)
			if st := onEvent(); st != tc.status || string(h.reply) != tc.reply || h.errMsg != tc.msg {
				t.Errorf("status %d reply %q error %q, want %d %q %q", st, h.reply, h.errMsg, tc.status, tc.reply, tc.msg)
			}
			if strings.HasPrefix(tc.msg, "panic") && (len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "3 "+tc.msg+"\ngoroutine ")) {
				t.Errorf("logs %q, want the panic and its stack", h.logs)
			}
		})
	}
}

func TestHandlerRequired(t *testing.T) {
	h := useHost(t, &fakeHost{}, nil)
	if st := onInit(); st != 2 || !strings.Contains(h.errMsg, "pdk.Handle") {
		t.Errorf("init without a handler: %d %q", st, h.errMsg)
	}
	if st := onEvent(); st != 2 {
		t.Errorf("event without a handler: %d", st)
	}
	Handle(func(*Event) Reply { return nil })
	if st := onInit(); st != 0 {
		t.Errorf("init with a handler: %d", st)
	}
	for _, fn := range []func(*Event) Reply{nil, func(*Event) Reply { return nil }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Handle did not panic")
				}
			}()
			Handle(fn)
		}()
	}
}

func TestSetSecret(t *testing.T) {
	h := useHost(t, &fakeHost{}, func(*Event) Reply { return Drop("s") })
	SetSecret("db")
	onEvent()
	if want := `<module secret="db"><islLight><session id="s"><drop/></session></islLight></module>`; string(h.reply) != want {
		t.Errorf("reply %s", h.reply)
	}
	handler = func(*Event) Reply { return Commands("own", Drop("s")) }
	onEvent()
	if !strings.Contains(string(h.reply), `secret="own"`) {
		t.Errorf("reply %s", h.reply)
	}
}

func TestClockStub(t *testing.T) {
	h := useHost(t, &fakeHost{now: 1732700000123}, nil)
	if got := Now(); !got.Equal(time.UnixMilli(1732700000123)) {
		t.Errorf("Now() = %v", got)
	}
	for ms, want := range map[int64]time.Duration{250: 250 * time.Millisecond, 0: 0, -1: 0, math.MaxInt64: math.MaxInt64, math.MaxInt64 / 1_000_000: math.MaxInt64} {
		h.deadline = ms
		if got := Deadline(); got != want {
			t.Errorf("Deadline() for %d ms = %v, want %v", ms, got, want)
		}
	}
}

func TestConfigStrict(t *testing.T) {
	h := useHost(t, &fakeHost{config: `{"block":["10.0.0.0/8"],"Secret":"s"}`}, nil)
	var c struct {
		Block  []string `json:"block"`
		Secret string   `json:"secret"`
	}
	if err := Config(&c); err != nil || c.Secret != "s" || len(c.Block) != 1 {
		t.Errorf("Config: %v %+v", err, c)
	}
	h.config = `{"blok":[]}`
	if err := Config(&c); err == nil || err.Error() != `pdk: config: unknown field "blok"` {
		t.Errorf("unknown field: %v", err)
	}
	h.config = `{"secret":` + `"` + strings.Repeat("x", 1000) + `"}` // past the first probe
	if err := Config(&c); err != nil || len(c.Secret) != 1000 {
		t.Errorf("long config: %v", err)
	}
	if err := Config(c); err == nil {
		t.Error("Config of a non-pointer did not fail")
	}
}

func TestSignJWTStub(t *testing.T) {
	var got []byte
	h := useHost(t, &fakeHost{sign: func(key string, claims []byte) (string, int32) {
		if key != "k.pem" {
			return "", int32(ErrDenied)
		}
		got = claims
		return "tok.en.sig", 0
	}}, nil)
	tok, err := SignJWT("k.pem", map[string]any{"iss": "me", "n": 1, "data": map[string]string{"<": "&"}})
	if err != nil || tok != "tok.en.sig" {
		t.Fatalf("SignJWT: %q %v", tok, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(got, &claims); err != nil || claims["iss"] != "me" || claims["n"] != 1.0 {
		t.Errorf("claims %s: %v", got, err)
	}
	_, err = SignJWT("other.pem", nil)
	var he *HostError
	if !errors.Is(err, ErrDenied) || !errors.As(err, &he) || he.Func != "jwt_sign" || err.Error() != "pdk: jwt_sign: ERR_DENIED: not granted or not allowed" {
		t.Errorf("denied: %v", err)
	}
	if _, err := SignJWT("k.pem", map[string]any{"f": math.NaN()}); err == nil {
		t.Error("NaN claim encoded")
	}
	h.sign = nil
	if _, err := SignJWT("k.pem", nil); !errors.Is(err, ErrDenied) {
		t.Errorf("no signer: %v", err)
	}
}

func TestFetchStub(t *testing.T) {
	var got []byte
	useHost(t, &fakeHost{http: func(req []byte) (string, int32) {
		got = req
		if strings.Contains(string(req), "denied") {
			return "", int32(ErrDenied)
		}
		return `{"status":201,"headers":{"A":"b, c"},"body":"<ok>","truncated":true,"new":1}`, 0
	}}, nil)
	res, err := Fetch(Request{Method: "POST", URL: "https://x.example/p", Header: map[string]string{"K": "v"}, Body: "\"b\"\n"})
	want := Response{Status: 201, Header: map[string]string{"A": "b, c"}, Body: "<ok>", Truncated: true}
	if err != nil || res.Status != want.Status || !maps.Equal(res.Header, want.Header) || res.Body != want.Body || !res.Truncated {
		t.Errorf("Fetch = %+v, %v", res, err)
	}
	var req map[string]any
	if err := json.Unmarshal(got, &req); err != nil || req["method"] != "POST" || req["url"] != "https://x.example/p" || req["body"] != "\"b\"\n" ||
		req["headers"].(map[string]any)["K"] != "v" {
		t.Errorf("request %s: %v", got, err)
	}
	if _, err := Fetch(Request{URL: "https://denied.example"}); !errors.Is(err, ErrDenied) {
		t.Errorf("denied: %v", err)
	}
	Fetch(Request{URL: "https://x.example"})
	if string(got) != `{"url":"https://x.example"}` {
		t.Errorf("minimal request %s", got)
	}
}

func TestErrno(t *testing.T) {
	for e, want := range map[Errno]string{ErrBadArgument: "ERR_BAD_ARGUMENT", ErrFailed: "ERR_FAILED", ErrTimeout: "ERR_TIMEOUT", -9: "ERR(-9)", 0: "ERR(0)"} {
		if !strings.HasPrefix(e.Error(), want) {
			t.Errorf("%d: %q", e, e.Error())
		}
	}
}

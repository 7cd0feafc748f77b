package hostapi

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// TestABIDocument checks the constants and the function table against
// ABI.md, so the two cannot drift apart.
func TestABIDocument(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int32{
		"OK": OK, "ERR_BAD_ARGUMENT": ErrBadArgument, "ERR_MEMORY": ErrMemory, "ERR_NOT_FOUND": ErrNotFound,
		"ERR_TOO_LARGE": ErrTooLarge, "ERR_DENIED": ErrDenied, "ERR_LIMIT": ErrLimit, "ERR_TIMEOUT": ErrTimeout,
		"ERR_FAILED": ErrFailed,
	}
	rows := regexp.MustCompile("(?m)^\\| (-?[0-9]+) \\| `([A-Z_]+)` \\|").FindAllStringSubmatch(string(doc), -1)
	if len(rows) != len(codes) {
		t.Fatalf("ABI.md lists %d status codes, the package %d", len(rows), len(codes))
	}
	for _, r := range rows {
		v, _ := strconv.Atoi(r[1])
		if got, ok := codes[r[2]]; !ok || got != int32(v) {
			t.Errorf("ABI.md: %s = %s; package: %d (known %v)", r[2], r[1], got, ok)
		}
		if StatusName(int64(v)) != r[2] {
			t.Errorf("StatusName(%d) = %q, want %q", v, StatusName(int64(v)), r[2])
		}
	}

	// Imports block: "name (p type, …) -> type".
	sig := regexp.MustCompile(`(?m)^([a-z_]+) +\(([^)]*)\) -> (i32|i64)`)
	seen := map[string]bool{}
	for _, m := range sig.FindAllStringSubmatch(string(doc), -1) {
		name := m[1]
		if strings.HasPrefix(name, "hookd_v1") || name == "_initialize" {
			continue
		}
		seen[name] = true
		params, results, ok := Signature(name)
		if !ok {
			t.Errorf("ABI.md documents %s, the module has no such function", name)
			continue
		}
		var want []string
		for _, p := range strings.Split(m[2], ",") {
			if f := strings.Fields(p); len(f) == 2 {
				want = append(want, f[1])
			}
		}
		if got := typeNames(params); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: params %v, ABI.md %v", name, got, want)
		}
		if got := typeNames(results); len(got) != 1 || got[0] != m[3] {
			t.Errorf("%s: results %v, ABI.md %s", name, got, m[3])
		}
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("function %s is not documented in ABI.md", n)
		}
	}
}

func typeNames(ts []api.ValueType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = api.ValueTypeName(t)
	}
	return out
}

func TestNoCallState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, f := range functions {
		params := make([]int64, len(f.params))
		if got := h.call(t, nil, f.name, params...); got != int64(ErrBadArgument) {
			t.Errorf("%s without call state = %d, want ERR_BAD_ARGUMENT", f.name, got)
		}
	}
}

func TestEventReaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(nil)
	want := "EVENT=NEWSESSION&EVENT_ID=ev-1&MODULE=ISL_LIGHT&NAME=Anna+%26+Bo&SESSIONID=5a1d"
	n := int64(len(want))
	if got := h.call(t, c, FuncEventLen); got != n {
		t.Fatalf("event_len = %d, want %d", got, n)
	}
	// Probe: nothing written into a buffer too small, the length returned.
	h.fill(t, 100, 200, '#')
	if got := h.call(t, c, FuncEventRead, 100, 0); got != n {
		t.Errorf("probe = %d, want %d", got, n)
	}
	if got := h.call(t, c, FuncEventRead, 100, n-1); got != n {
		t.Errorf("short buffer = %d, want %d", got, n)
	}
	if got := h.read(t, 100, 200); got != strings.Repeat("#", 200) {
		t.Errorf("short buffer written: %q", got)
	}
	if got := h.call(t, c, FuncEventRead, 100, n); got != n {
		t.Errorf("event_read = %d, want %d", got, n)
	}
	if got := h.read(t, 100, uint32(n)+1); got != want+"#" {
		t.Errorf("event = %q, want %q then the untouched byte", got, want)
	}

	name, nl := h.write(t, 0, "NAME")
	if got := h.call(t, c, FuncEventGet, name, nl, 0, 0); got != 9 {
		t.Errorf("event_get probe = %d, want 9", got)
	}
	if got := h.call(t, c, FuncEventGet, name, nl, 1000, 64); got != 9 || h.read(t, 1000, 9) != "Anna & Bo" {
		t.Errorf("event_get = %d %q", got, h.read(t, 1000, 9))
	}
	id, il := h.write(t, 0, "EVENT_ID")
	if got := h.call(t, c, FuncEventGet, id, il, 1000, 64); got != 4 || h.read(t, 1000, 4) != "ev-1" {
		t.Errorf("event_get EVENT_ID = %d %q", got, h.read(t, 1000, 4))
	}
	missing, ml := h.write(t, 0, "NOPE")
	if got := h.call(t, c, FuncEventGet, missing, ml, 1000, 64); got != int64(ErrNotFound) {
		t.Errorf("event_get missing = %d, want ERR_NOT_FOUND", got)
	}

	empty := NewCall(nil, time.Time{}, 0, nil)
	if got := h.call(t, empty, FuncEventLen); got != 0 {
		t.Errorf("event_len of no event = %d", got)
	}
}

func TestReplyAndError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := NewCall(testEvent(), time.Time{}, 32, nil)
	if _, set := c.Reply(); set {
		t.Fatal("reply set before reply_set")
	}
	p, n := h.write(t, 0, "<nomessage/>")
	if got := h.call(t, c, FuncReplySet, p, n); got != 0 {
		t.Fatalf("reply_set = %d", got)
	}
	h.write(t, 0, "XXXXXXXXXXXX") // the reply is a copy
	if r, set := c.Reply(); !set || string(r) != "<nomessage/>" {
		t.Errorf("reply = %q %v", r, set)
	}
	if got := h.call(t, c, FuncReplySet, 0, 33); got != int64(ErrTooLarge) {
		t.Errorf("reply_set over the limit = %d, want ERR_TOO_LARGE", got)
	}
	if c.ReplyRefused() != 33 {
		t.Errorf("ReplyRefused = %d, want 33", c.ReplyRefused())
	}
	if r, _ := c.Reply(); string(r) != "<nomessage/>" {
		t.Errorf("refused reply replaced the earlier one: %q", r)
	}

	h.fill(t, 0, 3000, 'e')
	if got := h.call(t, c, FuncErrorSet, 0, 3000); got != 0 {
		t.Fatalf("error_set = %d", got)
	}
	if len(c.ErrorMessage()) != MaxErrorMessage {
		t.Errorf("error message is %d bytes, want it cut at %d", len(c.ErrorMessage()), MaxErrorMessage)
	}
	// A cut never splits a UTF-8 sequence.
	h.fill(t, 0, 3000, 'e')
	h.write(t, MaxErrorMessage-1, "é")
	h.call(t, c, FuncErrorSet, 0, 3000)
	if m := c.ErrorMessage(); len(m) != MaxErrorMessage-1 {
		t.Errorf("cut in a rune: %d bytes, ends %q", len(m), m[len(m)-3:])
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(nil)
	p, n := h.write(t, 0, "hello")
	for level := range int64(4) {
		if got := h.call(t, c, FuncLog, level, p, n); got != 0 {
			t.Fatalf("log level %d = %d", level, got)
		}
	}
	if got := h.call(t, c, FuncLog, 4, p, n); got != int64(ErrBadArgument) {
		t.Errorf("log level 4 = %d, want ERR_BAD_ARGUMENT", got)
	}
	h.fill(t, 0, 2000, 'x')
	for range MaxLogLines - 4 {
		if got := h.call(t, c, FuncLog, 1, 0, 2000); got != 0 {
			t.Fatalf("log = %d", got)
		}
	}
	if got := h.call(t, c, FuncLog, 1, 0, 1); got != int64(ErrLimit) {
		t.Errorf("log line %d = %d, want ERR_LIMIT", MaxLogLines+1, got)
	}
	logs := c.Logs()
	if len(logs) != MaxLogLines {
		t.Fatalf("%d lines kept, want %d", len(logs), MaxLogLines)
	}
	if logs[0].Text != "hello" || logs[0].Source != "log" || logs[3].Level.String() != "ERROR" {
		t.Errorf("first lines: %+v", logs[:4])
	}
	if len(logs[4].Text) != MaxLogLine {
		t.Errorf("long line is %d bytes, want %d", len(logs[4].Text), MaxLogLine)
	}
	if k := c.Counters(); k.LogLinesDropped != 1 || k.LogLines != MaxLogLines {
		t.Errorf("counters %+v", k)
	}
	if len(c.HostCalls()) == 0 || c.HostCalls()[0].Name != FuncLog {
		t.Errorf("host calls not recorded: %v", c.HostCalls())
	}
}

func TestClocksAndConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := NewCall(nil, time.Now().Add(500*time.Millisecond), 0, &Grants{Config: []byte(`{"a":1}`)})
	now := h.call(t, c, FuncNowMs)
	if d := time.Since(time.UnixMilli(now)); d < 0 || d > time.Second {
		t.Errorf("now_ms off by %s", d)
	}
	if ms := h.call(t, c, FuncDeadlineMs); ms <= 400 || ms > 500 {
		t.Errorf("deadline_ms = %d, want about 500", ms)
	}
	past := NewCall(nil, time.Now().Add(-time.Second), 0, nil)
	if ms := h.call(t, past, FuncDeadlineMs); ms != 0 {
		t.Errorf("deadline_ms after the deadline = %d, want 0", ms)
	}
	if got := h.call(t, c, FuncConfigRead, 10, 100); got != 7 || h.read(t, 10, 7) != `{"a":1}` {
		t.Errorf("config_read = %d %q", got, h.read(t, 10, 7))
	}
	if got := h.call(t, past, FuncConfigRead, 10, 100); got != 2 || h.read(t, 10, 2) != `{}` {
		t.Errorf("config_read without config = %d %q", got, h.read(t, 10, 2))
	}
	if got := h.call(t, c, FuncResultRead, 0, 10); got != int64(ErrNotFound) {
		t.Errorf("result_read before any result = %d, want ERR_NOT_FOUND", got)
	}
}

func TestBadPointers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(&Grants{Config: []byte(`{}`)})
	const end = memSize
	neg := int64(-1)
	cases := []struct {
		name   string
		params []int64
	}{
		{FuncEventRead, []int64{end, 1}},
		{FuncEventRead, []int64{end + 1, 0}},
		{FuncEventRead, []int64{end - 10, 11}},
		{FuncEventRead, []int64{0, neg}},
		{FuncEventRead, []int64{-16, 32}},
		{FuncEventGet, []int64{end, 4, 0, 0}},
		{FuncEventGet, []int64{0, 4, 0, -2}},
		{FuncReplySet, []int64{0, neg}},
		{FuncReplySet, []int64{end, 1}},
		{FuncErrorSet, []int64{neg, 1}},
		{FuncLog, []int64{1, end, 1}},
		{FuncLog, []int64{1, 0, -1 << 31}},
		{FuncConfigRead, []int64{end - 1, 2}},
		{FuncJWTSign, []int64{0, neg, 0, 0}},
		{FuncJWTSign, []int64{0, 1, end, 1}},
		{FuncHTTPRequest, []int64{end - 1, 2}},
		{FuncResultRead, []int64{end, 1}},
	}
	for _, tc := range cases {
		if got := h.call(t, c, tc.name, tc.params...); got != int64(ErrMemory) {
			t.Errorf("%s%v = %s, want ERR_MEMORY", tc.name, tc.params, StatusName(got))
		}
	}
	if k := c.Counters(); k.MemoryErrors != len(cases) {
		t.Errorf("MemoryErrors = %d, want %d", k.MemoryErrors, len(cases))
	}
}

func TestGrantsValidate(t *testing.T) {
	t.Parallel()
	sign := func(context.Context, string, map[string]any) (string, error) { return "", nil }
	for _, tc := range []struct {
		g    Grants
		want string
	}{
		{Grants{}, ""},
		{Grants{Config: []byte(`{"a":[1]}`)}, ""},
		{Grants{Config: []byte(`[1]`)}, "not a JSON object"},
		{Grants{Config: []byte(`{"a":`)}, "not valid JSON"},
		{Grants{Keys: []string{"a"}}, "no signer"},
		{Grants{Keys: []string{"a", "a"}, Sign: sign}, "listed twice"},
		{Grants{Keys: []string{""}, Sign: sign}, "empty"},
	} {
		err := tc.g.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.g, err, tc.want)
		}
	}
}

func TestStatusName(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "OK", 12: "12", -2: "ERR_MEMORY", -99: "ERR(-99)"} {
		if got := StatusName(in); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", in, got, want)
		}
	}
}

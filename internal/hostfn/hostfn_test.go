package hostfn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hostapi"
)

func TestNoCallState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, f := range hostapi.Functions() {
		params := make([]int64, len(f.Params))
		if got := h.call(t, nil, f.Name, params...); got != int64(hostapi.ErrBadArgument) {
			t.Errorf("%s without call state = %d, want ERR_BAD_ARGUMENT", f.Name, got)
		}
	}
}

func TestEventReaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(nil)
	want := "EVENT=NEWSESSION&EVENT_ID=ev-1&MODULE=ISL_LIGHT&NAME=Anna+%26+Bo&SESSIONID=5a1d"
	n := int64(len(want))
	if got := h.call(t, c, hostapi.FuncEventLen); got != n {
		t.Fatalf("event_len = %d, want %d", got, n)
	}
	// Probe: nothing written into a buffer too small, the length returned.
	h.fill(t, 100, 200, '#')
	if got := h.call(t, c, hostapi.FuncEventRead, 100, 0); got != n {
		t.Errorf("probe = %d, want %d", got, n)
	}
	if got := h.call(t, c, hostapi.FuncEventRead, 100, n-1); got != n {
		t.Errorf("short buffer = %d, want %d", got, n)
	}
	if got := h.read(t, 100, 200); got != strings.Repeat("#", 200) {
		t.Errorf("short buffer written: %q", got)
	}
	if got := h.call(t, c, hostapi.FuncEventRead, 100, n); got != n {
		t.Errorf("event_read = %d, want %d", got, n)
	}
	if got := h.read(t, 100, uint32(n)+1); got != want+"#" {
		t.Errorf("event = %q, want %q then the untouched byte", got, want)
	}

	name, nl := h.write(t, 0, "NAME")
	if got := h.call(t, c, hostapi.FuncEventGet, name, nl, 0, 0); got != 9 {
		t.Errorf("event_get probe = %d, want 9", got)
	}
	if got := h.call(t, c, hostapi.FuncEventGet, name, nl, 1000, 64); got != 9 || h.read(t, 1000, 9) != "Anna & Bo" {
		t.Errorf("event_get = %d %q", got, h.read(t, 1000, 9))
	}
	id, il := h.write(t, 0, "EVENT_ID")
	if got := h.call(t, c, hostapi.FuncEventGet, id, il, 1000, 64); got != 4 || h.read(t, 1000, 4) != "ev-1" {
		t.Errorf("event_get EVENT_ID = %d %q", got, h.read(t, 1000, 4))
	}
	missing, ml := h.write(t, 0, "NOPE")
	if got := h.call(t, c, hostapi.FuncEventGet, missing, ml, 1000, 64); got != int64(hostapi.ErrNotFound) {
		t.Errorf("event_get missing = %d, want ERR_NOT_FOUND", got)
	}

	empty := NewCall(nil, time.Time{}, 0, nil)
	if got := h.call(t, empty, hostapi.FuncEventLen); got != 0 {
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
	if got := h.call(t, c, hostapi.FuncReplySet, p, n); got != 0 {
		t.Fatalf("reply_set = %d", got)
	}
	h.write(t, 0, "XXXXXXXXXXXX") // the reply is a copy
	if r, set := c.Reply(); !set || string(r) != "<nomessage/>" {
		t.Errorf("reply = %q %v", r, set)
	}
	if got := h.call(t, c, hostapi.FuncReplySet, 0, 33); got != int64(hostapi.ErrTooLarge) {
		t.Errorf("reply_set over the limit = %d, want ERR_TOO_LARGE", got)
	}
	if c.ReplyRefused() != 33 {
		t.Errorf("ReplyRefused = %d, want 33", c.ReplyRefused())
	}
	if r, _ := c.Reply(); string(r) != "<nomessage/>" {
		t.Errorf("refused reply replaced the earlier one: %q", r)
	}

	h.fill(t, 0, 3000, 'e')
	if got := h.call(t, c, hostapi.FuncErrorSet, 0, 3000); got != 0 {
		t.Fatalf("error_set = %d", got)
	}
	if len(c.ErrorMessage()) != hostapi.MaxErrorMessage {
		t.Errorf("error message is %d bytes, want it cut at %d", len(c.ErrorMessage()), hostapi.MaxErrorMessage)
	}
	// A cut never splits a UTF-8 sequence.
	h.fill(t, 0, 3000, 'e')
	h.write(t, hostapi.MaxErrorMessage-1, "é")
	h.call(t, c, hostapi.FuncErrorSet, 0, 3000)
	if m := c.ErrorMessage(); len(m) != hostapi.MaxErrorMessage-1 {
		t.Errorf("cut in a rune: %d bytes, ends %q", len(m), m[len(m)-3:])
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newCall(nil)
	p, n := h.write(t, 0, "hello")
	for level := range int64(4) {
		if got := h.call(t, c, hostapi.FuncLog, level, p, n); got != 0 {
			t.Fatalf("log level %d = %d", level, got)
		}
	}
	if got := h.call(t, c, hostapi.FuncLog, 4, p, n); got != int64(hostapi.ErrBadArgument) {
		t.Errorf("log level 4 = %d, want ERR_BAD_ARGUMENT", got)
	}
	h.fill(t, 0, 2000, 'x')
	for range hostapi.MaxLogLines - 4 {
		if got := h.call(t, c, hostapi.FuncLog, 1, 0, 2000); got != 0 {
			t.Fatalf("log = %d", got)
		}
	}
	if got := h.call(t, c, hostapi.FuncLog, 1, 0, 1); got != int64(hostapi.ErrLimit) {
		t.Errorf("log line %d = %d, want ERR_LIMIT", hostapi.MaxLogLines+1, got)
	}
	logs := c.Logs()
	if len(logs) != hostapi.MaxLogLines {
		t.Fatalf("%d lines kept, want %d", len(logs), hostapi.MaxLogLines)
	}
	if logs[0].Text != "hello" || logs[0].Source != "log" || logs[3].Level != hostapi.LevelError {
		t.Errorf("first lines: %+v", logs[:4])
	}
	if len(logs[4].Text) != hostapi.MaxLogLine {
		t.Errorf("long line is %d bytes, want %d", len(logs[4].Text), hostapi.MaxLogLine)
	}
	if k := c.Counters(); k.LogLinesDropped != 1 || k.LogLines != hostapi.MaxLogLines {
		t.Errorf("counters %+v", k)
	}
	if len(c.HostCalls()) == 0 || c.HostCalls()[0].Name != hostapi.FuncLog {
		t.Errorf("host calls not recorded: %v", c.HostCalls())
	}
}

func TestClocksAndConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Bounds from clock readings around the calls, not a tolerance: they
	// hold however long a loaded machine takes between the lines.
	before := time.Now()
	c := NewCall(nil, before.Add(testTimeout), 0, &Grants{Config: []byte(`{"a":1}`)})
	now := h.call(t, c, hostapi.FuncNowMs)
	ms := h.call(t, c, hostapi.FuncDeadlineMs)
	after := time.Now()
	if now < before.UnixMilli() || now > after.UnixMilli() {
		t.Errorf("now_ms = %d, not within [%d, %d]", now, before.UnixMilli(), after.UnixMilli())
	}
	if lo, hi := (testTimeout-after.Sub(before)).Milliseconds()-1, testTimeout.Milliseconds(); ms < lo || ms > hi {
		t.Errorf("deadline_ms = %d, want in [%d, %d]", ms, lo, hi)
	}
	past := NewCall(nil, time.Now().Add(-time.Second), 0, nil)
	if ms := h.call(t, past, hostapi.FuncDeadlineMs); ms != 0 {
		t.Errorf("deadline_ms after the deadline = %d, want 0", ms)
	}
	if got := h.call(t, c, hostapi.FuncConfigRead, 10, 100); got != 7 || h.read(t, 10, 7) != `{"a":1}` {
		t.Errorf("config_read = %d %q", got, h.read(t, 10, 7))
	}
	if got := h.call(t, past, hostapi.FuncConfigRead, 10, 100); got != 2 || h.read(t, 10, 2) != `{}` {
		t.Errorf("config_read without config = %d %q", got, h.read(t, 10, 2))
	}
	if got := h.call(t, c, hostapi.FuncResultRead, 0, 10); got != int64(hostapi.ErrNotFound) {
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
		{hostapi.FuncEventRead, []int64{end, 1}},
		{hostapi.FuncEventRead, []int64{end + 1, 0}},
		{hostapi.FuncEventRead, []int64{end - 10, 11}},
		{hostapi.FuncEventRead, []int64{0, neg}},
		{hostapi.FuncEventRead, []int64{-16, 32}},
		{hostapi.FuncEventGet, []int64{end, 4, 0, 0}},
		{hostapi.FuncEventGet, []int64{0, 4, 0, -2}},
		{hostapi.FuncReplySet, []int64{0, neg}},
		{hostapi.FuncReplySet, []int64{end, 1}},
		{hostapi.FuncErrorSet, []int64{neg, 1}},
		{hostapi.FuncLog, []int64{1, end, 1}},
		{hostapi.FuncLog, []int64{1, 0, -1 << 31}},
		{hostapi.FuncConfigRead, []int64{end - 1, 2}},
		{hostapi.FuncJWTSign, []int64{0, neg, 0, 0}},
		{hostapi.FuncJWTSign, []int64{0, 1, end, 1}},
		{hostapi.FuncHTTPRequest, []int64{end - 1, 2}},
		{hostapi.FuncResultRead, []int64{end, 1}},
		// Not granted state: the pointers are checked first all the same.
		{hostapi.FuncStateGet, []int64{end, 1, 0, 0}},
		{hostapi.FuncStateGet, []int64{0, 1, end - 1, 2}},
		{hostapi.FuncStateSet, []int64{0, neg, 0, 0, 0}},
		{hostapi.FuncStateSet, []int64{0, 1, end, 1, 0}},
		{hostapi.FuncStateIncr, []int64{0, 1, 1, 0, end - 7}},
		{hostapi.FuncStateIncr, []int64{end, 1, 1, 0, 0}},
		{hostapi.FuncStateDelete, []int64{-8, 16}},
	}
	for _, tc := range cases {
		if got := h.call(t, c, tc.name, tc.params...); got != int64(hostapi.ErrMemory) {
			t.Errorf("%s%v = %s, want ERR_MEMORY", tc.name, tc.params, hostapi.StatusName(got))
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

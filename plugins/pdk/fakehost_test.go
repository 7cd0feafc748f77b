//go:build !wasip1

package pdk

import (
	"net/url"
	"testing"
)

// fakeHost serves the host functions natively, for the package's unit
// tests; the same behaviour through hookd's real host is tested in
// guest_test.go.
type fakeHost struct {
	fields   map[string]string
	config   string
	now      int64
	deadline int64
	sign     func(key string, claims []byte) (string, int32)
	http     func(req []byte) (string, int32)

	reply    []byte
	hasReply bool
	errMsg   string
	logs     []string
	result   []byte
	calls    map[string]int
}

// useHost installs h for the duration of the test, and a handler.
func useHost(t *testing.T, h *fakeHost, fn func(*Event) Reply) *fakeHost {
	t.Helper()
	if h.calls == nil {
		h.calls = map[string]int{}
	}
	stub, handler, defaultSecret = h, fn, ""
	t.Cleanup(func() { stub, handler, defaultSecret = nil, nil, "" })
	return h
}

// deliver is the reader discipline of the ABI.
func deliver(buf []byte, data []byte) int32 {
	if len(data) <= len(buf) {
		copy(buf, data)
	}
	return int32(len(data))
}

func (h *fakeHost) form() []byte {
	v := url.Values{}
	for k, x := range h.fields {
		v.Set(k, x)
	}
	return []byte(v.Encode())
}

func (h *fakeHost) eventLen() int32 { h.calls["event_len"]++; return int32(len(h.form())) }
func (h *fakeHost) eventRead(buf []byte) int32 {
	h.calls["event_read"]++
	return deliver(buf, h.form())
}

func (h *fakeHost) eventGet(name string, buf []byte) int32 {
	h.calls["event_get"]++
	v, ok := h.fields[name]
	if !ok {
		return int32(ErrNotFound)
	}
	return deliver(buf, []byte(v))
}

func (h *fakeHost) replySet(b []byte) int32 {
	h.calls["reply_set"]++
	h.reply, h.hasReply = append([]byte(nil), b...), true
	return 0
}

func (h *fakeHost) errorSet(b []byte) int32 { h.errMsg = string(b); return 0 }
func (h *fakeHost) log(level int32, b []byte) int32 {
	h.logs = append(h.logs, string(rune('0'+level))+" "+string(b))
	return 0
}
func (h *fakeHost) nowMs() int64      { return h.now }
func (h *fakeHost) deadlineMs() int64 { return h.deadline }
func (h *fakeHost) configRead(buf []byte) int32 {
	h.calls["config_read"]++
	if h.config == "" {
		return deliver(buf, []byte("{}"))
	}
	return deliver(buf, []byte(h.config))
}

func (h *fakeHost) jwtSign(key string, claims []byte) int32 {
	if h.sign == nil {
		return int32(ErrDenied)
	}
	tok, st := h.sign(key, claims)
	if st < 0 {
		return st
	}
	h.result = []byte(tok)
	return int32(len(tok))
}

func (h *fakeHost) httpRequest(req []byte) int32 {
	if h.http == nil {
		return int32(ErrDenied)
	}
	res, st := h.http(req)
	if st < 0 {
		return st
	}
	h.result = []byte(res)
	return int32(len(res))
}

func (h *fakeHost) resultRead(buf []byte) int32 { return deliver(buf, h.result) }

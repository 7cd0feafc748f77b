package pdk

import (
	"bytes"
	"runtime"
	"unsafe"
)

// Event is the proxy event a call handles: the fields of an ISL HTTP event
// (MODULE, EVENT, SESSIONID, …) plus hookd's EVENT_ID. Field names are
// case-sensitive.
//
//	if ev.Name() == "NEWSESSION" {
//		id := ev.Get("SESSIONID")
//		…
//	}
//
// # Notes
//
//   - An Event is valid only during the handler call it is passed to; do
//     not keep it.
//   - The strings it returns are the plugin's own copies.
type Event struct {
	_ [0]func() // not comparable; room for state later
}

// getScratch receives field values; a value that does not fit is read
// again into a buffer of its size. One instance runs one call at a time,
// and a host call never yields to another goroutine, so sharing it is
// safe.
var getScratch [256]byte

// Get returns the value of the field name, or "" when the event has no such
// field. It asks the host for that one field (event_get): it does not read
// or parse the whole event.
func (e *Event) Get(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// Lookup returns the value of the field name and whether the event has it.
func (e *Event) Lookup(name string) (string, bool) {
	n := eventGet(sptr(name), uint32(len(name)), unsafe.Pointer(&getScratch), uint32(len(getScratch)))
	switch {
	case n < 0:
		return "", false // ERR_NOT_FOUND; or no call at all
	case int(n) <= len(getScratch):
		return string(getScratch[:n]), true
	}
	b := make([]byte, n) // longer than the scratch buffer: probe again
	if eventGet(sptr(name), uint32(len(name)), ptr(b), uint32(len(b))) != n {
		return "", false // the event changed during the call: never with hookd
	}
	runtime.KeepAlive(name)
	return unsafe.String(&b[0], len(b)), true // b is not used again: no copy
}

// Name returns the EVENT field, with the spelling "NEW SESSION" that some
// proxies send turned into "NEWSESSION".
func (e *Event) Name() string {
	if n := e.Get("EVENT"); n != "NEW SESSION" {
		return n
	}
	return "NEWSESSION"
}

// Fields reads and decodes the whole event (event_len, event_read) and
// returns its fields as a new map, which the caller owns.
//
//	for name, value := range ev.Fields() { … }
//
// # Notes
//
//   - Each call reads the event again; to look at a few fields, [Event.Get]
//     is cheaper.
//   - Outside a call, the map is empty.
func (e *Event) Fields() map[string]string {
	n := eventLen()
	if n <= 0 {
		return map[string]string{}
	}
	buf, st := read(make([]byte, n), func(b []byte) int32 {
		n := eventRead(ptr(b), uint32(len(b)))
		runtime.KeepAlive(b)
		return n
	})
	if st < 0 {
		return map[string]string{}
	}
	return parseForm(buf)
}

// parseForm decodes application/x-www-form-urlencoded data as
// url.ParseQuery does, keeping the last value of a repeated name; a '%' not
// followed by two hex digits is kept as it is. It takes ownership of b:
// names and values are decoded in place and share b's memory.
//
// In a Go guest every branch taken costs a host check (~28 ns), so the
// delimiters are found with bytes.IndexByte, which scans a word at a time,
// and only tokens holding '%' or '+' are decoded byte by byte.
func parseForm(b []byte) map[string]string {
	m := make(map[string]string, 16)
	for len(b) > 0 {
		pair := b
		if i := bytes.IndexByte(b, '&'); i >= 0 {
			pair, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(pair) == 0 {
			continue
		}
		name, value := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			name, value = pair[:i], pair[i+1:]
		}
		m[unescape(name)] = unescape(value)
	}
	return m
}

// unescape decodes '+' and %XX in s, in place (s is owned), and returns
// it as a string sharing s's memory.
func unescape(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if bytes.IndexByte(s, '%') < 0 && bytes.IndexByte(s, '+') < 0 {
		return unsafe.String(&s[0], len(s))
	}
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		s[j] = c
		j++
	}
	return unsafe.String(&s[0], j)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

package main

import (
	"fmt"
	"net/url"
	"strconv"
)

// field is one name/value pair of an event, in the order it is sent.
type field struct{ name, value string }

// The fields every generated event carries so that arrivals can be told
// apart: the run (so that deliveries left over from an earlier run are not
// counted) and the event's sequence number within the run.
const (
	runField = "LOAD_RUN"
	seqField = "LOAD_SEQ"
)

// eventKinds are the events -event can send.
var eventKinds = map[string]func(run string, seq int) []field{
	"user_create": userCreate,
	"newsession":  newSession,
}

// userCreate is ISL Conference Proxy's USER_CREATE: routed to the JWT
// webhook when its user_create switch is on, and to HTTP events scripts
// like any event. About 300 bytes form-encoded once hookd adds EVENT_ID,
// TIMESTAMP and SERVERID.
func userCreate(run string, seq int) []field {
	n := strconv.Itoa(seq)
	return []field{
		{"MODULE", "ISL_CP"},
		{"EVENT", "USER_CREATE"},
		{"DOMAIN_ID", "1"},
		{"DOMAIN", "acme"},
		{"USER_ID", strconv.Itoa(100000 + seq)},
		{"USERNAME", "load-" + run + "-" + n},
		{"EMAIL", "load-" + run + "-" + n + "@example.com"},
		{"FULLNAME", "Load Test User " + n},
		{"LANGUAGE", "en"},
		{"CREATED_BY", "admin"},
		{"REMOTE_ADDR", "192.0.2.17"},
		{runField, run},
		{seqField, n},
	}
}

// newSession is ISL Light's NEW SESSION (sent as NEWSESSION, as the
// XMLMSG page spells it): an HTTP events event; the JWT webhook does not take it.
func newSession(run string, seq int) []field {
	n := strconv.Itoa(seq)
	return []field{
		{"MODULE", "ISL_LIGHT"},
		{"EVENT", "NEWSESSION"},
		{"DOMAIN_ID", "1"},
		{"SESSIONID", run + "-" + n},
		{"SESSION_CODE", fmt.Sprintf("%09d", 100000000+seq%900000000)},
		{"USERNAME", "support-agent"},
		{"USER_ID", "42"},
		{"CLIENT_IP", "198.51.100.23"},
		{"CLIENT_NAME", "Customer " + n},
		{"CLIENT_OS", "Windows 11"},
		{"REMOTE_ADDR", "203.0.113.5"},
		{runField, run},
		{seqField, n},
	}
}

// appendJSONObject appends the fields as a flat JSON object.
func appendJSONObject(dst []byte, fs []field) []byte {
	dst = append(dst, '{')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, f.value)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string. Generated values are ASCII,
// but anything is escaped correctly: control characters as \u00XX, other
// bytes (UTF-8 included) as they are.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendForm appends the fields as application/x-www-form-urlencoded.
func appendForm(dst []byte, fs []field) []byte {
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, url.QueryEscape(f.name)...)
		dst = append(dst, '=')
		dst = append(dst, url.QueryEscape(f.value)...)
	}
	return dst
}

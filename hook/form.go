package hook

import (
	"maps"
	"net/url"
	"slices"
)

// AppendForm appends fields to dst as application/x-www-form-urlencoded,
// sorted by name, each name followed by suffix, and returns the extended
// buffer. It is the one encoding of an event as a form: the body of an
// HTTP event (suffix "", or "_0", "_1", … in a combined request) and what
// a WASM plugin reads with event_read.
//
//	body := hook.AppendForm(nil, ev.Fields, "") // EVENT=NEW+SESSION&MODULE=ISL_LIGHT&…, as received
func AppendForm(dst []byte, fields map[string]string, suffix string) []byte {
	for i, k := range slices.Sorted(maps.Keys(fields)) {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, url.QueryEscape(k+suffix)...)
		dst = append(dst, '=')
		dst = append(dst, url.QueryEscape(fields[k])...)
	}
	return dst
}

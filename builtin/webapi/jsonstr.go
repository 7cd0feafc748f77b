package webapi

import (
	"bytes"
	"encoding/json"
)

// appendJSONString appends s as a JSON string literal, as encoding/json
// writes it with HTML escaping off (a template value such as "a<b" must
// reach the service as written, not as "a\u003cb"). Notifications are
// rendered a few times a second at most, so the standard encoder's cost
// does not matter.
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

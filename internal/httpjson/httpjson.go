// Package httpjson writes hookd's JSON answers: every HTTP answer hookd
// gives, from the API and from modules' routes, is JSON, and every error
// is {"error": "…"} saying what was wrong.
package httpjson

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// Write answers v as JSON with the given status, followed by a newline. A
// v that cannot be encoded is answered with a 500 {"error":"internal
// error"} instead.
//
// <, > and & are written as themselves, not as encoding/json's \u003c
// escapes: the answers are JSON, never HTML (nosniff keeps a browser from
// reading them as such), and a "<redacted>" secret or an error that
// quotes one must read as what it says in curl's output.
func Write(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends with the newline
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Error answers {"error": msg} with the given status.
func Error(w http.ResponseWriter, status int, msg string) {
	Write(w, status, map[string]string{"error": msg})
}

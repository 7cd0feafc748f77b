// Package httpjson writes hookd's JSON answers: every HTTP answer hookd
// gives, from the API and from modules' routes, is JSON, and every error
// is {"error": "…"} saying what was wrong.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers v as JSON with the given status, followed by a newline. A
// v that cannot be encoded is answered with a 500 {"error":"internal
// error"} instead.
func Write(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// Error answers {"error": msg} with the given status.
func Error(w http.ResponseWriter, status int, msg string) {
	Write(w, status, map[string]string{"error": msg})
}

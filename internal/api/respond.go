package api

import (
	"net/http"
	"strconv"

	"github.com/hookrt/hookd/internal/httpjson"
)

// writeError answers {"error": msg}; writeJSON answers v.
var (
	writeError = httpjson.Error
	writeJSON  = httpjson.Write
)

// statusRecorder remembers the status code a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// code is the status written so far; 200 if the handler wrote nothing.
func (r *statusRecorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// probeWriter captures what ServeMux's fallback handler would answer
// (404, or 405 with Allow), so that the answer can be given in JSON.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

// quoteCut quotes s for an error message, cut to 32 bytes.
func quoteCut(s string) string {
	if len(s) <= 32 {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:32]) + "..."
}

// orEmpty returns s, or an empty slice for nil, so that a list answers
// [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

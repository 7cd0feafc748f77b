package httpjson

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      any
		status int
		body   string
	}{
		{"secret shown as written", map[string]string{"value": "<redacted>", "q": "a&b"}, 200, `{"q":"a&b","value":"<redacted>"}` + "\n"},
		{"error quoting markup", map[string]string{"error": `"<redacted>" stands for the stored secret`}, 400, `{"error":"\"<redacted>\" stands for the stored secret"}` + "\n"},
		{"cannot encode", map[string]any{"f": func() {}}, 500, `{"error":"internal error"}` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			status := c.status
			if status == 500 {
				status = 200 // asked for 200; the encoding failure makes it 500
			}
			Write(rec, status, c.v)
			if rec.Code != c.status || rec.Body.String() != c.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), c.status, c.body)
			}
			if h := rec.Header(); h.Get("Content-Type") != "application/json" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestError(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, http.StatusNotFound, "no such delivery <7>")
	if rec.Code != 404 || rec.Body.String() != `{"error":"no such delivery <7>"}`+"\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}

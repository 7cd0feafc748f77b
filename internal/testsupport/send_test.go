package testsupport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSend: the whole body is read and the status and headers come with it.
func TestSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, body := Send(t, srv.Client(), req)
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Test") != "yes" || string(body) != "short and stout" {
		t.Errorf("Send: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

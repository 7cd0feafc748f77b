package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/api"
)

func TestSessionEvents(t *testing.T) {
	srv := httptest.NewServer(api.New(newFakeBackend(), api.Options{}))
	defer srv.Close()
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/sessions/s-1/events", 200, `"summary":"nomessage"`},
		{"/v1/sessions/unknown/events", 200, `"events":[]`},
		{"/v1/sessions/" + strings.Repeat("x", 300) + "/events", 400, "session id: must be 1 to 256 bytes"},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var body json.RawMessage
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %s; want %d containing %s", tc.path[:min(40, len(tc.path))], resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

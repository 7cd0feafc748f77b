package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// TestModuleRoutes: routes that modules add under /v1/ need the token too.
func TestModuleRoutes(t *testing.T) {
	extra := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(api.New(newFakeBackend(), api.Options{Token: "t0k",
		Routes: []hook.Route{{Pattern: "POST /v1/webapi/account/signup/1", Handler: extra}}}))
	defer srv.Close()
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"t0k", 418}} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/webapi/account/signup/1", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q: %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
}

package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hookrt/hookd/internal/api"
)

// TestOpenAPIServed: GET /v1/openapi.json serves the embedded document,
// as JSON, behind the token like the rest of /v1/.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{Token: "t0k"})
	tb.do(t, "GET", "/v1/openapi.json", "").want(t, http.StatusUnauthorized)
	a := tb.do(t, "GET", "/v1/openapi.json", "", "Authorization", "Bearer t0k").want(t, http.StatusOK)
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a.raw != string(api.OpenAPI()) {
		t.Errorf("served %d bytes, not the embedded document (%d bytes)", len(a.raw), len(api.OpenAPI()))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/v1/events"] == nil {
		t.Errorf("the document is not an OpenAPI 3.1 description of the API: openapi %q, %d paths, %v", doc.OpenAPI, len(doc.Paths), err)
	}
}

package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every route this
// package serves, and of the module routes the daemon mounts beside them:
// users generate their clients from it. It lives next to the handlers so
// that a route and its description change in one commit; TestOpenAPI*
// start a real API and validate every route's requests and answers
// against it, and compare its paths with the routes registered here, so it
// cannot drift.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of hookd's HTTP API, as served
// at GET /v1/openapi.json. The caller must not modify it.
func OpenAPI() []byte { return openAPIDocument }

// handleOpenAPI serves GET /v1/openapi.json. It is under /v1/, so it needs
// the token like the routes it describes (the document is no secret, but
// a listener beyond loopback has a token, and one rule for /v1/ is
// simpler to reason about than exceptions).
func handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}

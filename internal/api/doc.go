// Package api is hookd's HTTP API: the proxy posts events to it, operators
// list and replay deliveries through it, and receivers fetch the JWT
// webhook's public keys from it. [New] returns an [http.Handler] serving a
// [Backend], which the public runtime implements.
//
//	h := api.New(rt, api.Options{Token: token, Logger: logger})
//	srv := &http.Server{Addr: "127.0.0.1:7700", Handler: h}
//
// # Routes
//
//	POST /v1/events                      202 {"event_id":"…"}; with Idempotency-Key, a repeat 200 {"event_id":"…","repeated":true}
//	                                     a batch (JSON array or NDJSON): 202 {"event_ids":["…",…]}
//	GET  /v1/deliveries?state=&target=&event_id=&before=&limit=
//	                                     200 {"deliveries":[…]}
//	GET  /v1/deliveries/{id}             200 the delivery, with its event and attempts
//	POST /v1/deliveries/{id}/retry       202 {"id":42,"status":"queued"}
//	POST /v1/deliveries/{id}/discard     200 {"id":42,"status":"discarded"}
//	POST /v1/deliveries/retry?state=dead&target=&since=
//	                                     200 {"retried":12} (a bulk replay)
//	GET  /v1/targets                     200 {"targets":[{"name","state","breaker","pending",…}]}
//	POST /v1/targets/{name}/disable|enable|pause|resume   200 {"target":"…","state":"…"}
//	GET  /v1/sessions/{id}/events        200 {"session_id":"…","events":[…]} (a session's record)
//	GET  /v1/domains                     200 {"domains":[…]} (config.toml's, read-only, and stored ones)
//	GET|PUT /v1/domains/{id}             200 the domain (PUT: its settings as JSON, validated as at start)
//	DELETE /v1/domains/{id}              200 {"domain":"…","status":"deleted"}
//	POST /v1/domains/{id}/tokens         201 the token, with its secret (shown once); GET lists them, no secrets
//	DELETE /v1/domains/{id}/tokens/{token}  200 {"domain","token","status":"revoked"}
//	PUT  /v1/domains/{id}/plugin[?activate=false]  201 the version (multipart: module, settings)
//	GET  /v1/domains/{id}/plugin/versions          200 {"versions":[…]}
//	POST /v1/domains/{id}/plugin/versions/{v}/activate  200 the version (a rollback: an older one)
//	DELETE /v1/domains/{id}/plugin/versions/{v}    200; the active one 409
//	POST /v1/domains/{id}/plugin/test    200 {"results":[…]} (a dry run: JSON, or multipart module + request)
//	GET  /v1/domains/{id}/logs|audit?limit=  200 {"lines":[…]} | {"entries":[…]}
//	GET  /v1/domains/{id}/summary        200 the domain's deliveries by state, plugin calls by outcome
//	…                                    routes of modules (Options.Routes), e.g. the External WebAPI's
//	GET  /.well-known/jwks.json          200 {"keys":[…]} (no auth, cacheable 5 min)
//	GET  /healthz                        200 {"status":"ok"} or 503 {"status":"unavailable","error":"…"} (no auth)
//
// The body of POST /v1/events is the event's fields, as a flat JSON object
// (application/json) or as a form (application/x-www-form-urlencoded, the
// way ISL's proxy posts HTTP events); see [ParseEvent] for the rules. It is
// at most [Options.MaxBody] bytes (413 beyond); other content types get 415.
// A batch of up to [MaxBatch] events is a JSON array of such objects, or
// NDJSON (application/x-ndjson, one object per line), of at most
// [Options.MaxBatchBody] bytes; it is committed all or none, and an
// Idempotency-Key covers all of it (see [ParseEvents]). A batch is how a
// sender that has many events at once saves a round trip and a commit per
// event.
//
// GET /v1/deliveries lists newest first. state is one of the store's
// states (pending, retrying, delivered, dead, discarded), target a target
// name, event_id an EVENT_ID, since a duration back or a time, before a
// delivery id (the next page lists smaller ids), limit 1 to 1000 (the
// store's default page is 100). Other parameters are refused. The query
// is read by internal/ops, as the admin page's and the CLI's are.
//
// # Errors
//
// Every error is answered in JSON, {"error":"…"}, with a status that says
// what kind it is: 400 (a bad body, id or query; the text says what and
// where), 401 (token missing or wrong), 404 (no such path, delivery,
// domain…, or one the token may not see), 405
// (with Allow), 409 (the delivery's state does not allow the action), 413,
// 415, 503 (the store is unavailable; Retry-After: 1) and 500 (logged; the
// answer says no more than "internal error").
//
// # Authentication
//
// When [Options.Token] is set, every request under /v1/ needs
// "Authorization: Bearer <token>"; the token is compared in constant time
// and never logged. /.well-known/jwks.json and /healthz stay open. Without a
// token the API must only listen on loopback (server.listen is refused
// otherwise): New cannot see the listener, so the config does that.
//
// The bearer token is the operator's, or a domain token (when the Backend
// is a [DomainBackend]): its domain's owner reaches its own domain's routes
// (/v1/domains/{its id}…, but not its tokens or its deletion), its
// target's deliveries and its events of a session, all through the ops
// room's scope; every other route, and every other domain's resources,
// answer it 404, exactly as what does not exist. Wrong domain tokens count
// toward the same back-off as wrong operator tokens.
//
// # Logging
//
// Each request is logged at debug level with method, path, status and
// duration; backend failures answered with 500 are logged at error level.
package api

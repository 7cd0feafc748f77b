package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/authguard"
	"github.com/hookrt/hookd/internal/ops"
)

// Backend is what the API serves; the runtime implements it.
//
// Every method may be called from many goroutines at once. Errors that wrap
// [hook.ErrInvalid], [hook.ErrNotFound], [hook.ErrConflict] or
// [hook.ErrUnavailable] become 400, 404, 409 and 503 answers; Emit's errors
// that wrap [hook.ErrInvalidEvent] become 400; any other error is logged and
// answered with a generic 500.
//
// The delivery log's reads and actions (ListDeliveries, Delivery, Retry,
// RetryForced, Discard, RetryMatching, RetryMatchingForced, SessionEvents,
// TargetStatuses, Plugins) are [ops.Backend]'s: the API reaches them
// through the ops room, scoped by who asks.
type Backend interface {
	ops.Backend
	// EmitManyWithKey commits events (one, or a batch) all or none and returns
	// their EVENT_IDs in order; with a non-empty idempotency key, a repeat
	// returns the first call's IDs with repeated set (or an error matching
	// hook.ErrConflict when its fields differ).
	EmitManyWithKey(ctx context.Context, key string, events []map[string]string) (eventIDs []string, repeated bool, err error)
	// DisableTarget, PauseTarget, EnableTarget and ResumeTarget change a
	// target's state on every node.
	DisableTarget(ctx context.Context, name, reason string) error
	PauseTarget(ctx context.Context, name, reason string) error
	EnableTarget(ctx context.Context, name string) error
	ResumeTarget(ctx context.Context, name string) error
	// JWKS returns the public signing keys as a JWK set, {"keys":[…]};
	// {"keys":[]} when nothing signs.
	JWKS() []byte
	// Health reports whether the runtime can accept events (its store is
	// reachable and takes writes).
	Health(ctx context.Context) error
	// Ready reports whether the runtime should get traffic: healthy, and
	// its delivery workers running (not stopping).
	Ready(ctx context.Context) error
}

// Options configure the handler returned by [New]. The zero value is usable.
type Options struct {
	// Token is the bearer token every /v1/ request must present. Empty means
	// no authentication, which is only safe on a loopback listener.
	// Defaults to "".
	Token string
	// Logger receives one debug record per request and the errors that are
	// answered with 500. The token is never logged. Defaults to discarding.
	Logger *slog.Logger
	// MaxBody bounds the body of POST /v1/events that carries one event,
	// in bytes; larger bodies are answered with 413. Defaults to 64 KiB.
	MaxBody int64
	// MaxBatchBody bounds the body of a batch (a JSON array or NDJSON of
	// up to MaxBatch events). Defaults to DefaultMaxBatchBody (1 MiB).
	MaxBatchBody int64
	// Routes are extra routes served by modules (e.g. the External WebAPI's
	// "POST /v1/webapi/account/signup/1"; see hook.RouteProvider). Under
	// /v1/ they need the token like every other route. Defaults to none.
	Routes []hook.Route
	// Metrics, when set, is served at GET /metrics, behind the token like
	// /v1/ (Prometheus sends one with `authorization: credentials_file`).
	Metrics http.Handler
	// Now is the clock of the log's outage summaries and of the back-off
	// after wrong tokens; tests set it. Defaults to time.Now.
	Now func() time.Time
	// MaxPluginSize bounds an uploaded plugin module (PUT
	// /v1/domains/{id}/plugin, POST /v1/domains/{id}/plugin/test), in
	// bytes; a larger one is answered with 413 naming the limit. Set it to
	// the runtime's [domains] max_plugin_size. Defaults to
	// DefaultMaxPluginSize.
	MaxPluginSize int64
}

// DefaultMaxBody is the body limit used when [Options.MaxBody] is 0.
const DefaultMaxBody = 64 << 10

// DefaultMaxPluginSize is the module limit used when
// [Options.MaxPluginSize] is 0.
const DefaultMaxPluginSize = 8 << 20

// healthTimeout bounds one Backend.Health call.
const healthTimeout = 5 * time.Second

// server is the http.Handler returned by New.
type server struct {
	b       Backend
	log     *slog.Logger
	maxBody int64
	// maxBatchBody bounds the body of a batch.
	maxBatchBody int64
	// tokenHash is the SHA-256 of Options.Token, nil when auth is off.
	// Comparing hashes keeps the comparison constant-time in the length too.
	tokenHash []byte
	mux       *http.ServeMux
	// public: the handler of NewPublic, which never says why it is unhealthy.
	public bool
	// guard slows down an address that keeps sending wrong tokens.
	guard *authguard.Guard
	// outage logs a store outage once, in summaries, and at its end,
	// rather than once per refused request.
	outage *outageLog
	// ops is the operations room over b: the delivery log, scoped by who
	// asks.
	ops *ops.Ops
	// domains serves /v1/domains and authenticates domain tokens; nil
	// when b does not keep domains as data.
	domains DomainBackend
	// maxPlugin bounds an uploaded module.
	maxPlugin int64
	// routes are the registered routes with who may call them, in order;
	// accessOf is the same by pattern.
	routes   []route
	accessOf map[string]access
}

// New returns the HTTP handler of hookd's API, serving b.
//
//	srv := &http.Server{Addr: "127.0.0.1:7700", Handler: api.New(rt, api.Options{Token: tok})}
//
// # Notes
//
//   - New panics if b is nil: that is a programming error.
//   - The routes, answers and status codes are listed in the package doc.
func New(b Backend, opts Options) http.Handler {
	if b == nil {
		panic("api: New needs a Backend")
	}
	s := &server{b: b, log: opts.Logger, maxBody: opts.MaxBody, maxBatchBody: opts.MaxBatchBody, mux: http.NewServeMux(),
		maxPlugin: cmp.Or(max(opts.MaxPluginSize, 0), DefaultMaxPluginSize)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.init(opts.Now)
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxBatchBody <= 0 {
		s.maxBatchBody = DefaultMaxBatchBody
	}
	if opts.Token != "" {
		h := sha256.Sum256([]byte(opts.Token))
		s.tokenHash = h[:]
	}
	s.ops = ops.New(b, ops.Options{})
	s.domains, _ = b.(DomainBackend)

	// Who may call each route: the operator only (a domain token is
	// answered 404, as for a path that does not exist), any principal
	// (the handler scopes what it shows), or anyone (no token).
	operator, scoped, public := s.registrar(accessOperator), s.registrar(accessScoped), s.registrar(accessPublic)
	operator.HandleFunc("POST /v1/events", s.handleEmit)
	scoped.HandleFunc("GET /v1/deliveries", s.handleList)
	scoped.HandleFunc("GET /v1/deliveries/{id}", s.handleGet)
	scoped.HandleFunc("POST /v1/deliveries/{id}/retry", s.handleRetry)
	scoped.HandleFunc("POST /v1/deliveries/{id}/discard", s.handleDiscard)
	scoped.HandleFunc("POST /v1/deliveries/retry", s.handleRetryMatching)
	operator.HandleFunc("GET /v1/targets", s.handleTargets)
	operator.HandleFunc("POST /v1/targets/{name}/{action}", s.handleTargetAction)
	scoped.HandleFunc("GET /v1/sessions/{id}/events", s.handleSession)
	scoped.HandleFunc("GET /v1/domains", s.handleDomains)
	scoped.HandleFunc("GET /v1/domains/{id}", s.handleDomain)
	scoped.HandleFunc("PUT /v1/domains/{id}", s.handlePutDomain)
	operator.HandleFunc("DELETE /v1/domains/{id}", s.handleDeleteDomain)
	operator.HandleFunc("POST /v1/domains/{id}/tokens", s.handleCreateToken)
	operator.HandleFunc("GET /v1/domains/{id}/tokens", s.handleTokens)
	operator.HandleFunc("DELETE /v1/domains/{id}/tokens/{token}", s.handleRevokeToken)
	scoped.HandleFunc("PUT /v1/domains/{id}/plugin", s.handlePushPlugin)
	scoped.HandleFunc("GET /v1/domains/{id}/plugin/versions", s.handlePluginVersions)
	scoped.HandleFunc("POST /v1/domains/{id}/plugin/versions/{version}/activate", s.handleActivatePlugin)
	scoped.HandleFunc("DELETE /v1/domains/{id}/plugin/versions/{version}", s.handleDeletePluginVersion)
	scoped.HandleFunc("POST /v1/domains/{id}/plugin/test", s.handleTestPlugin)
	scoped.HandleFunc("GET /v1/domains/{id}/logs", s.handlePluginLogs)
	scoped.HandleFunc("GET /v1/domains/{id}/audit", s.handleAudit)
	scoped.HandleFunc("GET /v1/domains/{id}/summary", s.handleSummary)
	operator.HandleFunc("GET /v1/openapi.json", handleOpenAPI)
	public.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	public.HandleFunc("GET /healthz", s.handleHealth)
	public.HandleFunc("GET /livez", handleLive)
	public.HandleFunc("GET /readyz", s.handleReady)
	if opts.Metrics != nil {
		operator.Handle("GET /metrics", opts.Metrics)
	}
	for _, r := range opts.Routes {
		// A module's route under /v1/ is the operator's (the External
		// WebAPI's, called by the proxy); one outside it (the admin page,
		// the portal) does its own login.
		g := public
		if strings.Contains(r.Pattern, "/v1/") {
			g = operator
		}
		g.Handle(r.Pattern, r.Handler)
	}
	return s
}

// NewPublic returns a handler that serves only what may face the
// internet without a token: the JWK set receivers verify tokens with
// (/.well-known/jwks.json) and the health probes (/healthz, /livez,
// /readyz, which do not say why they fail). Everything else is 404. The
// daemon serves it on [server] public_listen.
func NewPublic(b Backend, logger *slog.Logger) http.Handler {
	if b == nil {
		panic("api: NewPublic needs a Backend")
	}
	s := &server{b: b, log: logger, mux: http.NewServeMux(), public: true}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.init(nil)
	public := s.registrar(accessPublic)
	public.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	public.HandleFunc("GET /healthz", s.handleHealth)
	public.HandleFunc("GET /livez", handleLive)
	public.HandleFunc("GET /readyz", s.handleReady)
	return s
}

// init sets up what both handlers share: the back-off after wrong tokens
// and the outage log, on the clock now (nil: time.Now).
func (s *server) init(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.guard = authguard.New(authguard.Options{Now: now})
	s.outage = &outageLog{log: s.log, now: now, every: outageSummaryEvery}
}

// ServeHTTP logs the request, checks the token of /v1/ requests, and routes.
// Unknown paths and wrong methods are answered here, in JSON.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	asker := "" // who, once authenticated: "operator" or the domain token
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "api handler panicked",
				"method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if rec.status == 0 {
				writeError(rec, http.StatusInternalServerError, "internal error")
			}
		}
		// Checked first: the arguments cost five allocations per request
		// even when debug lines are off.
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.DebugContext(r.Context(), "api request", "method", r.Method,
				"path", r.URL.Path, "status", rec.code(), "duration", time.Since(start), "principal", asker)
		}
		if provesStore(r, rec.code()) {
			s.outage.ok(r.Context())
		}
	}()

	h := rec.Header()
	h.Set("X-Content-Type-Options", "nosniff")

	handler, pattern := s.mux.Handler(r)
	acc, routed := s.access(pattern)
	if isV1(r.URL.Path) || (routed && acc != accessPublic) {
		h.Set("Cache-Control", "no-store")
		who, ok := s.authenticate(rec, r)
		if !ok {
			return
		}
		if routed && acc == accessOperator && !who.IsOperator() {
			// The same answer as for a path that does not exist: a
			// domain's owner learns nothing of the operator's routes.
			writeError(rec, http.StatusNotFound, "no such path: "+r.URL.Path)
			return
		}
		r, asker = r.WithContext(withPrincipal(r.Context(), who)), who.String()
	}
	if !routed {
		s.noRoute(rec, r, handler)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// provesStore reports whether a request answered status shows the store
// takes writes again: a write under /v1/ that succeeded, or a health or
// readiness probe that passed (they write to the store). A read that
// succeeds does not: on a full disk reads work while every write fails.
func provesStore(r *http.Request, status int) bool {
	if status < 200 || status > 299 {
		return false
	}
	switch r.URL.Path {
	case "/healthz", "/readyz":
		return true
	}
	return r.Method == http.MethodPost && isV1(r.URL.Path)
}

// isV1 reports whether path is under /v1/, the part that needs the token.
func isV1(path string) bool { return path == "/v1" || strings.HasPrefix(path, "/v1/") }

// tooManyWrong answers 429: the address sent too many wrong tokens.
func tooManyWrong(w http.ResponseWriter, wait time.Duration) {
	secs := authguard.RetryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf(
		"too many wrong tokens from this address; the next one is checked in %d s (Retry-After)", secs))
}

// noRoute answers a request that matches no route: 405 with Allow when the
// path exists with other methods, 404 otherwise. It asks the mux's own
// fallback handler which of the two applies.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request, fallback http.Handler) {
	probe := &probeWriter{header: http.Header{}}
	fallback.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed,
			"method "+r.Method+" not allowed on "+r.URL.Path+"; allowed: "+probe.header.Get("Allow"))
		return
	}
	writeError(w, http.StatusNotFound, "no such path: "+r.URL.Path)
}

// handleJWKS serves the public keys; it never needs the token.
func (s *server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body := s.b.JWKS()
	if len(body) == 0 {
		body = []byte(`{"keys":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// handleLive answers 200 while the process serves HTTP at all: the
// liveness probe, which must not fail because the store is down (a
// restart would not bring it back).
func handleLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady answers 200 when the runtime should get traffic, 503 when
// its store is unhealthy or it is stopping: the readiness probe.
func (s *server) handleReady(w http.ResponseWriter, r *http.Request) {
	s.probe(w, r, s.b.Ready)
}

// handleHealth answers 200 or 503; it never needs the token. When the API
// is token-protected (exposed beyond loopback), the open endpoint does not
// disclose the backend's error text: it is logged instead.
func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.probe(w, r, s.b.Health)
}

// probe answers check's verdict as 200 or 503, bounded by healthTimeout.
func (s *server) probe(w http.ResponseWriter, r *http.Request, check func(context.Context) error) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := check(ctx); err != nil {
		if errors.Is(err, hook.ErrUnavailable) {
			s.outage.refused(r.Context(), r.Method, r.URL.Path, err) // logged once per outage
		} else {
			s.log.WarnContext(r.Context(), "health check failed", "error", err)
		}
		msg := err.Error()
		if s.tokenHash != nil || s.public {
			msg = "backend unhealthy; see the server log"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": msg})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// backendError answers err from the Backend: 404 with notFound for
// ErrNotFound (the backend's own words could say more than "not found"
// to a principal that may not see the thing), 400 with the error's text
// for ErrInvalid, 409 with it for ErrConflict, 503 for ErrUnavailable,
// and a logged 500 for anything else.
func (s *server) backendError(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	switch {
	case errors.Is(err, hook.ErrNotFound) && notFound != "":
		writeError(w, http.StatusNotFound, notFound)
	case errors.Is(err, hook.ErrInvalid):
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), hook.ErrInvalid.Error()+": "))
	case errors.Is(err, hook.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, hook.ErrUnavailable):
		s.outage.refused(r.Context(), r.Method, r.URL.Path, err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "store unavailable, try again")
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		s.log.DebugContext(r.Context(), "api request canceled", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusServiceUnavailable, "request canceled")
	default:
		s.internalError(w, r, err)
	}
}

// internalError logs err and answers a generic 500: the error's text may
// name internals that are not the caller's business.
func (s *server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "api backend error", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}

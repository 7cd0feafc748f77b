package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/portal"
	hookrt "github.com/hookrt/hookd/runtime"
)

// shutdownGrace bounds how long SIGTERM waits for in-flight requests and
// delivery attempts; attempts still running after it are released and
// retried at the next start.
const shutdownGrace = 15 * time.Second

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	var prof profiles
	cfg, err := loadConfig("serve", args, prof.addFlags)
	if err != nil {
		return err
	}
	log := cfg.Log.NewLogger(stderr)
	log.Debug("garbage collector", "gogc", tuneGC())
	if err := prof.start(); err != nil {
		return err
	}
	defer prof.stop(log) // serve did not get to its stop
	// What check checks, by the same code, before anything starts: a busy
	// port or a locked store stops the start with check's message.
	pf := &preflight{}
	if err := pf.run(ctx, cfg, log); err != nil {
		return err
	}
	token := pf.token
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(log), hookrt.WithVersion(hookdVersion()))
	if err != nil {
		pf.close()
		return err
	}
	// The admin page checks the token itself (a login form, then a
	// session); so does the domain owners' portal, with a domain token.
	// Its chart is the runtime's own ring (rt.Stats, an ops.Stats).
	adminPage := hook.Route{Pattern: "/admin/", Handler: admin.New(rt, admin.Options{Token: token, Logger: log, Config: cfg.Redacted, Stats: rt.Stats})}
	portalPage := hook.Route{Pattern: "/portal/", Handler: portal.New(rt, portal.Options{Logger: log, MaxPluginSize: cfg.Domains.MaxPluginSize})}
	var apiHandler http.Handler = api.New(rt, api.Options{Token: token, Logger: log, Routes: append(slices.Clip(rt.Routes()), adminPage, portalPage), Metrics: rt.Metrics(),
		MaxPluginSize: cfg.Domains.MaxPluginSize})
	if cfg.Tracing.Enabled() {
		// A span per request, continuing the caller's trace (traceparent).
		apiHandler = otelhttp.NewHandler(apiHandler, "hookd.api", otelhttp.WithSpanNameFormatter(
			func(_ string, r *http.Request) string { return "hookd.api " + r.Method }))
	}
	handlers := map[string]http.Handler{
		"server.listen":        apiHandler,
		"server.public_listen": api.NewPublic(rt, log),
		"metrics.listen":       metricsOnly(rt.Metrics()),
	}
	servers := pf.servers
	for i := range servers {
		servers[i].srv.Handler = handlers[servers[i].name]
	}
	logServing(ctx, log, cfg, servers, rt.Targets(), token != "")
	errc := make(chan error, len(servers))
	for _, sv := range servers {
		go func() { errc <- sv.srv.Serve(sv.ln) }()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case err = <-errc:
			break wait
		case <-ctx.Done():
			log.Info("shutting down")
			break wait
		case <-hup:
			log.Info("SIGHUP: reloading plugins")
			if rerr := rt.Reload(ctx); rerr != nil {
				log.Error("reload", slog.Any("error", rerr))
			}
		}
	}
	prof.stop(log) // before the shutdown, which a second signal cuts short
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, sv := range servers {
		if serr := sv.srv.Shutdown(sctx); serr != nil {
			log.Warn("http shutdown", slog.String("listen", sv.addr), slog.Any("error", serr))
		}
	}
	closeRuntime(rt, log)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// listener is one HTTP listener of the daemon: the config key naming its
// address (for errors) and the address ("" for none).
type listener struct {
	name, addr string
}

// served is a listener bound and ready to serve.
type served struct {
	name, addr string
	ln         net.Listener
	srv        *http.Server
}

// logServing writes the first lines of a started daemon: where to go next
// (the API, the admin page, the metrics, as URLs one can open), then the
// version, the store, the targets and whether the API needs a token.
func logServing(ctx context.Context, log *slog.Logger, cfg *hookrt.Config, servers []served, targets []string, auth bool) {
	api := servers[0]
	metrics := urlOf(api.addr, "/metrics")
	for _, sv := range servers[1:] {
		if sv.name == "metrics.listen" {
			metrics = urlOf(sv.addr, "/metrics")
		}
	}
	log.InfoContext(ctx, "hookd serving",
		slog.String("api", urlOf(api.addr, "/v1/")), slog.String("admin", urlOf(api.addr, "/admin/")),
		slog.String("portal", urlOf(api.addr, "/portal/")),
		slog.String("metrics", metrics),
		slog.String("version", hookdVersion()), slog.String("listen", api.addr), slog.String("store", cfg.Store.Driver),
		slog.Any("targets", targets), slog.Bool("auth", auth))
	for _, sv := range servers[1:] {
		if sv.name == "server.public_listen" {
			log.InfoContext(ctx, "also serving", slog.String("what", sv.name), slog.String("listen", sv.addr),
				slog.String("jwks", urlOf(sv.addr, "/.well-known/jwks.json")), slog.String("health", urlOf(sv.addr, "/healthz")))
		}
	}
}

// urlOf is the http URL of path on a bound address; an unspecified host
// (0.0.0.0, ::) is written as the loopback address, where the URL opens
// on this machine.
func urlOf(addr, path string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + path
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + path
}

// metricsOnly serves h at GET /metrics and nothing else: the handler of
// [metrics] listen, which has no token.
func metricsOnly(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}

func closeRuntime(rt *hookrt.Runtime, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		log.Warn("closing runtime", slog.Any("error", err))
	}
	log.Info("stopped")
}

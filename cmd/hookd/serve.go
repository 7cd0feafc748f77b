package main

import (
	"context"
	"errors"
	"fmt"
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
	hookrt "github.com/hookrt/hookd/runtime"
)

// shutdownGrace bounds how long SIGTERM waits for in-flight requests and
// delivery attempts; attempts still running after it are released and
// retried at the next start.
const shutdownGrace = 15 * time.Second

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := loadConfig("serve", args)
	if err != nil {
		return err
	}
	log := cfg.Log.NewLogger(stderr)
	token, err := readToken(cfg.Server.TokenFile)
	if err != nil {
		return err
	}
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(log), hookrt.WithVersion(hookdVersion()))
	if err != nil {
		return err
	}
	// The admin page checks the token itself (a login form, then a session).
	adminPage := hook.Route{Pattern: "/admin/", Handler: admin.New(rt, admin.Options{Token: token, Logger: log, Config: cfg.Redacted})}
	var apiHandler http.Handler = api.New(rt, api.Options{Token: token, Logger: log, Routes: append(slices.Clip(rt.Routes()), adminPage), Metrics: rt.Metrics()})
	if cfg.Tracing.Endpoint != "" {
		// A span per request, continuing the caller's trace (traceparent).
		apiHandler = otelhttp.NewHandler(apiHandler, "hookd.api", otelhttp.WithSpanNameFormatter(
			func(_ string, r *http.Request) string { return "hookd.api " + r.Method }))
	}
	servers, err := listen(log, []listener{
		{"server.listen", cfg.Server.Listen, apiHandler},
		{"server.public_listen", cfg.Server.PublicListen, api.NewPublic(rt, log)},
		{"metrics.listen", cfg.Metrics.Listen, metricsOnly(rt.Metrics())},
	})
	if err != nil {
		closeRuntime(rt, log)
		return err
	}
	log.InfoContext(ctx, "hookd serving", slog.String("version", hookdVersion()),
		slog.String("listen", servers[0].addr), slog.String("store", cfg.Store.Driver),
		slog.Any("targets", rt.Targets()), slog.Bool("auth", token != ""))
	for _, sv := range servers[1:] {
		log.InfoContext(ctx, "also serving", slog.String("what", sv.name), slog.String("listen", sv.addr))
	}
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
// address (for errors), the address ("" for none) and what it serves.
type listener struct {
	name, addr string
	h          http.Handler
}

// served is a listener bound and ready to serve.
type served struct {
	name, addr string
	ln         net.Listener
	srv        *http.Server
}

// listen binds every listener that has an address, all or none, so that a
// port already taken stops the start before anything is served.
func listen(log *slog.Logger, ls []listener) ([]served, error) {
	var out []served
	for _, l := range ls {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, s := range out {
				s.ln.Close()
			}
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		out = append(out, served{name: l.name, addr: ln.Addr().String(), ln: ln, srv: &http.Server{
			Handler:           l.h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}})
	}
	return out, nil
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

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
	"syscall"
	"time"

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
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		closeRuntime(rt, log)
		return fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           api.New(rt, api.Options{Token: token, Logger: log, Routes: rt.Routes()}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.InfoContext(ctx, "hookd serving", slog.String("version", hookdVersion()),
		slog.String("listen", ln.Addr().String()), slog.String("store", cfg.Store.Driver),
		slog.Any("targets", rt.Targets()), slog.Bool("auth", token != ""))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", slog.Any("error", serr))
	}
	closeRuntime(rt, log)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func closeRuntime(rt *hookrt.Runtime, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		log.Warn("closing runtime", slog.Any("error", err))
	}
	log.Info("stopped")
}

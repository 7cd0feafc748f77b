// Command embed is a tiny proxy that embeds hookd as a Go library, from a
// module of its own and through public packages only (runtime, hook,
// builtin/webapi): nothing under internal/.
//
// It keeps its users in a table of hookd's own SQLite file, so that
// creating a user and emitting its USER_CREATE event happen in one
// transaction (a transactional outbox), and it asks hookd's External
// WebAPI (account/1) whether a user may sign up. See README.md.
//
//	go run . -config hookd.toml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	hookrt "github.com/hookrt/hookd/runtime"
)

// shutdownGrace bounds how long SIGINT/SIGTERM waits for requests and
// delivery attempts in flight; attempts still running after it are
// released and retried at the next start.
const shutdownGrace = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed already
		}
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// flags are the command-line settings.
type flags struct {
	listen string
	config string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8082", "address the proxy's HTTP API listens on")
	fs.StringVar(&f.config, "config", "hookd.toml", "hookd's config file; relative paths in it resolve against its directory")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q; all settings are flags", fs.Args())
	}
	return f, nil
}

// run is the whole program minus signal handling, so that tests can run
// it: it starts hookd, creates the proxy's table, serves the proxy's API
// until ctx is done, then shuts both down. It logs to stderr and calls
// ready, when not nil, with the address it listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}

	// 1. hookd's config: strict, every error names the file and the key.
	cfg, err := hookrt.LoadConfig(f.config)
	if err != nil {
		return err
	}
	log := cfg.Log.NewLogger(stderr)

	// 2. The runtime: the store (SQLite by default), the modules of the
	// config and the delivery workers.
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithLogger(log))
	if err != nil {
		return err
	}
	defer closeRuntime(rt, log) // after the HTTP server below has stopped

	// 3. The proxy's own table, in hookd's database file.
	if err := createSchema(ctx, rt.DB()); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	srv := &http.Server{
		Handler:           newServer(rt, log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // more than the WebAPI call: [webapi] timeout, 10s by default
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("proxy listening", "addr", ln.Addr().String(), "config", f.config,
		"store", cfg.Store.Path, "targets", rt.Targets())
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served: // could not serve at all
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// Requests in flight finish (and commit) before the runtime closes.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// closeRuntime stops hookd: attempts in flight finish, or are released and
// retried at the next start if they outlast shutdownGrace.
func closeRuntime(rt *hookrt.Runtime, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := rt.Close(ctx); err != nil {
		log.Warn("closing hookd", "error", err)
	}
	log.Info("stopped")
}

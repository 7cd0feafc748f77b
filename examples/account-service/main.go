// Command account-service is an example account/1 service for hookd's
// [webapi] section: the proxy, through hookd, delegates sign-up,
// notification and forgot-password to it. It answers in ISL's JSON1 format
// and keeps users, reset requests and notifications in a SQLite file.
//
// It is meant to be copied: it imports nothing of hookd, only the standard
// library and modernc.org/sqlite. See README.md.
//
//	go run ./examples/account-service -db accounts.db
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed already
		}
		fmt.Fprintln(os.Stderr, "account-service:", err)
		os.Exit(1)
	}
}

// config holds the command-line flags.
type config struct {
	listen string
	db     string
	delay  time.Duration
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("account-service", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8090", "address to receive account/1 calls on (any path)")
	fs.StringVar(&c.db, "db", "accounts.db", "SQLite database file, created if missing")
	fs.DurationVar(&c.delay, "delay", 0, "wait this long before answering each call (to try hookd's [webapi] timeout)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q; all settings are flags", fs.Args())
	case c.db == "":
		return c, errors.New("-db must not be empty")
	case c.delay < 0:
		return c, fmt.Errorf("-delay must not be negative, got %s", c.delay)
	}
	return c, nil
}

// run is the whole program, minus signal handling, so that tests can run it:
// it opens the database, listens, calls ready with the address it listens
// on, and serves until ctx is done. It logs one line per request to stdout.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, nil))

	st, err := openStore(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer st.close()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		// ctx.Done() tells calls waiting out -delay that the service stops.
		Handler:           newHandler(st, cfg.delay, ctx.Done(), logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30*time.Second + cfg.delay, // covers -delay and waiting for the database
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "db", cfg.db, "delay", cfg.delay)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Calls in flight finish (and commit) before the database closes.
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

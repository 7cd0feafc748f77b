// Command events-to-sql receives HTTP events, as ISL Conference Proxy's
// isl-cp-example-events-to-sql script does, and stores each one as a row of
// a SQLite table. It answers <nomessage/> once the row is committed.
//
// It is meant to be copied: it imports nothing of hookd, only the standard
// library and modernc.org/sqlite. See README.md.
//
//	go run ./examples/events-to-sql -db events.db
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
	"strings"
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
		fmt.Fprintln(os.Stderr, "events-to-sql:", err)
		os.Exit(1)
	}
}

// config holds the command-line flags.
type config struct {
	listen string
	db     string
	path   string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("events-to-sql", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address to receive HTTP events on")
	fs.StringVar(&c.db, "db", "events.db", "SQLite database file, created if missing")
	fs.StringVar(&c.path, "path", "/isl-cp-example-events-to-sql", "URL path the events are POSTed to")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q; all settings are flags", fs.Args())
	case !strings.HasPrefix(c.path, "/"):
		return c, fmt.Errorf("-path must start with /, got %q", c.path)
	case c.db == "":
		return c, errors.New("-db must not be empty")
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
		Handler:           newHandler(cfg.path, st, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // covers waiting for the database
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "path", cfg.path, "db", cfg.db)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Requests in flight finish (and commit) before the database closes.
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

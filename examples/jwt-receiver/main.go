// Command jwt-receiver receives hookd's JWT webhooks: it verifies each token
// against hookd's JWKS and prints its claims, one JSON line per webhook.
//
// It is meant to be copied: it imports nothing of hookd, only the standard
// library and github.com/golang-jwt/jwt/v5. See README.md.
//
//	go run ./examples/jwt-receiver -jwks http://127.0.0.1:7700/.well-known/jwks.json
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
		fmt.Fprintln(os.Stderr, "jwt-receiver:", err)
		os.Exit(1)
	}
}

// config holds the command-line flags.
type config struct {
	listen      string
	jwksURL     string
	issuer      string
	leeway      time.Duration
	jwksRefresh time.Duration
	jwksWait    time.Duration
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("jwt-receiver", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8081", "address to receive webhooks on")
	fs.StringVar(&c.jwksURL, "jwks", "http://127.0.0.1:7700/.well-known/jwks.json", "URL of hookd's JWKS")
	fs.StringVar(&c.issuer, "issuer", "", "required iss claim (empty: not checked)")
	fs.DurationVar(&c.leeway, "leeway", 60*time.Second, "clock skew allowed when checking exp and iat")
	fs.DurationVar(&c.jwksRefresh, "jwks-refresh", 10*time.Second, "minimum time between JWKS fetches caused by unknown kids")
	fs.DurationVar(&c.jwksWait, "jwks-wait", 30*time.Second, "how long to keep trying the first JWKS fetch, while hookd starts (0: once)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q; all settings are flags", fs.Args())
	case c.leeway < 0:
		return c, fmt.Errorf("-leeway must not be negative, got %s", c.leeway)
	case c.jwksRefresh < 0:
		return c, fmt.Errorf("-jwks-refresh must not be negative, got %s", c.jwksRefresh)
	case c.jwksWait < 0:
		return c, fmt.Errorf("-jwks-wait must not be negative, got %s", c.jwksWait)
	}
	return c, nil
}

// run is the whole program, minus signal handling, so that tests can run it:
// it fetches the JWKS, listens, calls ready with the address it listens on,
// and serves until ctx is done. Verified webhooks are printed to stdout;
// diagnostics go to stderr.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	keys := newKeySet(cfg.jwksURL, cfg.jwksRefresh, logger)
	if err := firstFetch(ctx, keys, cfg.jwksWait, logger); err != nil {
		return fmt.Errorf("fetch JWKS (is hookd running?): %w", err)
	}
	rcv := newReceiver(cfg, keys, stdout, logger)

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           rcv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "jwks", cfg.jwksURL)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// firstFetch fetches the JWKS, trying again for up to wait: started beside
// hookd (the quick start runs both at once), the receiver may ask before
// hookd listens. The pause between tries doubles from 100 ms to 2 s.
func firstFetch(ctx context.Context, keys *keySet, wait time.Duration, logger *slog.Logger) error {
	deadline := time.Now().Add(wait)
	pause := 100 * time.Millisecond
	for tries := 1; ; tries++ {
		err := keys.refresh(ctx)
		if err == nil || time.Now().Add(pause).After(deadline) {
			return err
		}
		if tries == 1 {
			logger.Info("waiting for hookd's JWKS", "jwks", keys.url, "err", err, "for", wait)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/hookrt/hookd/internal/config"
	hookrt "github.com/hookrt/hookd/runtime"
)

// preflight is what must hold before hookd serves: the token file reads,
// the listeners bind, the store is free. serve runs it before it opens the
// runtime (and keeps the listeners); check runs the same code and closes
// them again, so that check refuses what serve refuses, with the same
// message. Every problem is reported, not just the first.
type preflight struct {
	// offline skips what depends on the machine and network it runs on
	// rather than on the files: binding the listeners and connecting to
	// PostgreSQL (check -offline, for a config checked elsewhere than it
	// runs). skipped says what was skipped.
	offline bool
	skipped []string
	// bad holds the config keys that have problems (check of a config
	// with problems): what they name is not checked, the rest is.
	bad map[string]bool

	token   string
	servers []served // bound, in the order of listeners
}

// run checks cfg; the error joins every problem found, each a line that
// starts with the config file and the key.
func (p *preflight) run(ctx context.Context, cfg *hookrt.Config, log *slog.Logger) error {
	var errs []error
	if !p.bad["server.token_file"] {
		tok, err := readToken(cfg.Server.TokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cfg.Path, err))
		}
		p.token = tok
	}
	switch {
	case p.anyBad("server.listen", "server.public_listen", "metrics.listen"):
	case p.offline:
		p.skipped = append(p.skipped, "binding "+joinAddrs(cfg))
	default:
		var err error
		p.servers, err = bind(cfg, log)
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case p.anyBad("store.driver", "store.path", "store.dsn", "store.dsn_file", "store.synchronous", "store.cache_size", "store.mmap_size"):
	case p.offline && cfg.Store.Driver == hookrt.DriverPostgres:
		p.skipped = append(p.skipped, "connecting to PostgreSQL (store.dsn)")
	default:
		if err := hookrt.CheckStore(ctx, cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		p.close()
		return errors.Join(errs...)
	}
	return nil
}

// anyBad reports whether one of keys has a problem in the config.
func (p *preflight) anyBad(keys ...string) bool {
	for _, k := range keys {
		if p.bad[k] {
			return true
		}
	}
	return false
}

// problemKeys returns the keys the problems of a config are about
// (nil for none).
func problemKeys(err error) map[string]bool {
	if err == nil {
		return nil
	}
	keys := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if ce, ok := errors.AsType[*config.Error](err); ok {
			keys[ce.Key()] = true
		}
	}
	walk(err)
	return keys
}

// close closes the listeners bound and not served.
func (p *preflight) close() {
	for _, s := range p.servers {
		s.ln.Close()
	}
	p.servers = nil
}

// listenKeys are the config keys of the daemon's listeners, in the order
// servers are bound and reported.
func listenAddrs(cfg *hookrt.Config) []listener {
	return []listener{
		{name: "server.listen", addr: cfg.Server.Listen},
		{name: "server.public_listen", addr: cfg.Server.PublicListen},
		{name: "metrics.listen", addr: cfg.Metrics.Listen},
	}
}

func joinAddrs(cfg *hookrt.Config) string {
	s := ""
	for _, l := range listenAddrs(cfg) {
		if l.addr == "" {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += l.name + " (" + l.addr + ")"
	}
	return s
}

// bind binds every listener that has an address, all or none: every
// address that cannot be bound is reported, and the others are closed
// again. Handlers are set later, once the runtime is open.
func bind(cfg *hookrt.Config, log *slog.Logger) ([]served, error) {
	var out []served
	var errs []error
	for _, l := range listenAddrs(cfg) {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: cannot listen on %s: %s", cfg.Path, l.name, l.addr, listenCause(err)))
			continue
		}
		out = append(out, served{name: l.name, addr: ln.Addr().String(), ln: ln, srv: &http.Server{
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}})
	}
	if len(errs) > 0 {
		for _, s := range out {
			s.ln.Close()
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// listenCause says why an address could not be bound, without the
// "listen tcp …: bind:" the message repeats.
func listenCause(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "the address is already in use (another process listens there; another hookd?)"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "the address is not one of this machine's"
	case errors.Is(err, syscall.EACCES):
		return "permission denied (a port below 1024 needs privileges)"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// Command hookd is the hook runtime daemon: it takes events from the proxy
// over HTTP and delivers them durably to the configured hooks. It is also
// the operator's client of a running daemon.
//
//	hookd serve   -config config.toml   run the daemon
//	hookd check   -config config.toml   validate the config and keys, exit 1 on errors
//	hookd keys jwks -config config.toml print the public JWK set
//	hookd deliveries list -state dead   the delivery log, over the API
//	hookd replay -target T -since 24h   replay dead letters in bulk
//	hookd domains token create 42 -name ci   a domain owner's token
//	hookd plugin push -domain 42 guard.wasm  a domain's plugin, on every node
//	hookd version                       print the version
//
// "hookd help" lists every command, "hookd COMMAND -h" its flags. Exit
// codes: 0 done, 1 an error, 2 a usage error.
//
// # Signals
//
// The first SIGINT or SIGTERM cancels the context run is given: serve
// shuts down gracefully (in-flight attempts get 15 s), a client command
// stops its request. A second one, while that shutdown is still under
// way, exits at once with code 1: what was in flight is redelivered
// after the next start, since deliveries are durable.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go onSignals(sigs, cancel, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// onSignals cancels the run at the first signal and exits with code 1 at
// the second, saying so in a log line.
func onSignals(sigs <-chan os.Signal, cancel context.CancelFunc, stderr io.Writer, exit func(int)) {
	<-sigs
	cancel()
	sig := <-sigs
	log := exitLogger.Load()
	if log == nil {
		log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	log.Error("second signal while shutting down: exiting now; unfinished attempts are redelivered after the next start",
		slog.String("signal", sig.String()))
	exit(1)
}

// exitLogger is the logger the forced-exit line goes to: serve's (in the
// configured format) once serve has set it with setExitLogger, else a
// text logger on stderr.
var exitLogger atomic.Pointer[slog.Logger]

// setExitLogger makes log the logger of the forced-exit line.
func setExitLogger(log *slog.Logger) { exitLogger.Store(log) }

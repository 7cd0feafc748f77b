// Command hookd is the hook runtime daemon: it takes events from the proxy
// over HTTP and delivers them durably to the configured hooks.
//
//	hookd serve   -config config.toml   run the daemon
//	hookd check   -config config.toml   validate the config and keys, exit 1 on errors
//	hookd keys jwks -config config.toml print the public JWK set
//	hookd version                       print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

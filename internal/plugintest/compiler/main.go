// Command compiler compiles plugins into a compilation cache directory
// with hookd's engine (internal/wasmhost.Engine.Compile), so that the
// engine of a test binary finds them compiled. plugintest runs it to fill
// the cache that test binaries share: built without the race detector, it
// compiles a Go guest about ten times faster than a test binary built with
// it.
//
//	go run ./internal/plugintest/compiler <cache dir> <plugin.wasm>...
//
// A test binary knows its wazero version only as "dev" (it has no module
// information); set the same version here, or the entries are not its:
//
//	go run -ldflags=-X=github.com/tetratelabs/wazero/internal/version.version=dev ./internal/plugintest/compiler …
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hookrt/hookd/internal/wasmhost"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: compiler <cache dir> <plugin.wasm>...")
		os.Exit(2)
	}
	if err := compile(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "compiler:", err)
		os.Exit(1)
	}
}

func compile(dir string, wasms []string) error {
	ctx := context.Background()
	// hookd's engine, so that the entries are where and what it looks for
	// (one per binary, same wazero configuration: plugintest's test checks
	// it).
	e, err := wasmhost.NewEngine(ctx, wasmhost.Options{CacheDir: dir})
	if err != nil {
		return err
	}
	defer e.Close(ctx)
	for _, wasm := range wasms {
		if err := e.Compile(ctx, wasm); err != nil {
			return err
		}
	}
	return nil
}

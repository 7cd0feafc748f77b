// Command compiler compiles plugins into a wazero compilation cache, with
// the configuration of hookd's engine (internal/wasmhost), so that the
// engine finds them compiled. plugintest runs it to fill the cache that
// test binaries share: built without the race detector, it compiles a Go
// guest about ten times faster than a test binary built with it.
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

	"github.com/tetratelabs/wazero"
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
	cc, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	defer cc.Close(ctx)
	for _, wasm := range wasms {
		b, err := os.ReadFile(wasm)
		if err != nil {
			return err
		}
		// wasmhost's runtime configuration, as far as the cache key goes:
		// termination ensured, no listeners (plugintest's test checks it).
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithCompilationCache(cc))
		_, err = r.CompileModule(ctx, b)
		_ = r.Close(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", wasm, err)
		}
	}
	return nil
}

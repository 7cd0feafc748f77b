package wasmhost

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero"
)

// compile compiles wasm, whose SHA-256 is sha, in rt, never at the same
// time as another compilation of the same binary in this engine.
//
// Runtimes that share a compilation cache and compile one module at once
// can see it half-prepared: wazero (v1.12, wazero/wazero#2547) publishes a
// module read back from the file cache in its in-memory table before it
// has compiled the module's entry preambles, so a second CompileModule
// returns it at once and instantiating it can panic or race. hookd makes a
// runtime per plugin version over a cache per binary, and loads plugins
// concurrently (domains sharing a binary, a reload beside a start,
// Compile), so it takes a lock per binary around CompileModule. Striped by
// the hash: two binaries that share a stripe only wait for each other.
//
// With a cache directory, a binary whose compiled code was not there yet
// is logged ("wasm module compiled", with the time it took); one read
// back from the cache is not.
func (e *Engine) compile(ctx context.Context, rt wazero.Runtime, wasm []byte, sha string) (wazero.CompiledModule, error) {
	var stripe byte
	if sha != "" {
		stripe = sha[0]
	}
	mu := &e.compiling[int(stripe)%len(e.compiling)]
	mu.Lock()
	defer mu.Unlock()
	cached := e.Compiled(sha)
	start := time.Now()
	m, err := rt.CompileModule(ctx, wasm)
	if err == nil && e.cacheDir != "" && !cached {
		// A compile is the slow part of loading a new binary (a second
		// for a Go-built module on a loaded node): say when one happened,
		// so that a slow activation can be told from a slow propagation.
		e.logger.InfoContext(ctx, "wasm module compiled", "sha256", sha, "took", time.Since(start).Round(time.Millisecond))
	}
	return m, err
}

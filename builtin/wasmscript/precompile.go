package wasmscript

import (
	"context"
	"strings"
)

// Compiling ahead of loading
//
// A stored plugin version reaches every node as bytes. Compiling a
// Go-built module takes a second or two on a loaded node, and if a node
// compiled it only when the version becomes active, an activation would
// wait for that compile on every node but the one that stored it. So each
// node compiles a version into its compilation cache as soon as it sees
// it stored (runtime/domains_precompile.go), and the activation then only
// reads the compiled code back: a swap.

// Precompile writes module, a stored plugin version's binary whose hex
// SHA-256 is sha ("" skips the check), to its content-addressed file
// (module.go) and compiles it into the host's compilation cache, without
// loading it: no instances, no init, no status. A later Load of the same
// bytes, by this host or another on the same cache directory, reads the
// compiled code back instead of compiling. Never on the event path.
//
// # Notes
//
//   - It judges nothing but that the bytes compile: Load still checks the
//     ABI, limits and imports when the version is loaded.
//   - Useful only with a cache directory: in memory, the compiled code
//     would go with the host.
//   - Errors name the module by its SHA-256, as Load's do.
func (h *Host) Precompile(ctx context.Context, module []byte, sha string) error {
	path, err := h.moduleFile(module, sha, "")
	if err != nil {
		return err
	}
	if err := h.engine.Compile(ctx, path); err != nil {
		return &renamed{err: err, path: path, name: moduleName(path)}
	}
	return nil
}

// Compiled reports whether the compiled code of the binary whose hex
// SHA-256 is sha is in the host's cache directory already
// (wasmhost.Engine.Compiled): a caller can skip reading and compiling it.
func (h *Host) Compiled(sha string) bool {
	return h.engine.Compiled(strings.ToLower(sha))
}

package wasmscript

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookrt/hookd/internal/wasmhost"
)

// Plugins from bytes
//
// A stored plugin version (issue 17) reaches the host as bytes, not as a
// file. The host writes them once to a content-addressed file,
// <cache dir>/modules/<sha256>.wasm, and loads that file exactly as a
// plugin of the TOML file: one path through compile, limits, imports, ABI
// version and init for both, so that a module uploaded through the API is
// judged as `hookd serve` judges a file. The file never changes (its name
// is its content), so the reload poll finds nothing to do, and a node
// restarting finds the module and its compiled code already there.
//
// Files no stored version needs any more are pruned
// (wasmhost.Engine.PruneModules, asked for by the runtime): a file is
// removed only once unused for wasmhost.UnusedAge, and never while a
// process holds its binary's cache entry. So every load reserves the
// entry before it looks at the file, and touches a file it finds (its
// mtime is its last use); a file that is missing (pruned by another
// process sharing the directory, removed by hand) is simply written
// again from the bytes the caller has, which come from the store.

// moduleFile returns the file holding module, written if missing (0600,
// by a rename, so that a reader never sees half of it) and verified if
// present. want, when set, is the SHA-256 the module was stored with;
// dir, when set, is where to write it instead of the host's directory.
func (h *Host) moduleFile(module []byte, want, dir string) (string, error) {
	if len(module) > wasmhost.MaxBinary {
		return "", fmt.Errorf("plugin module: %d bytes, over the %d-byte limit", len(module), wasmhost.MaxBinary)
	}
	sum := sha256.Sum256(module)
	sha := hex.EncodeToString(sum[:])
	if want != "" && !strings.EqualFold(want, sha) {
		return "", fmt.Errorf("plugin module: its sha256 is %s, but it was stored as %s", sha, want)
	}
	if dir == "" {
		var err error
		if dir, err = h.moduleDir(); err != nil {
			return "", err
		}
		// No pruner removes the file from now until the load holds
		// the entry itself.
		if err := h.engine.Reserve(sha); err != nil {
			return "", fmt.Errorf("plugin module: %w", err)
		}
	}
	path := filepath.Join(dir, sha+".wasm")
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, module) {
		// Used now: the pruner's age of the file.
		now := time.Now()
		if err := os.Chtimes(path, now, now); !errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
	}
	// Missing, or not what its name says (a torn or tampered file):
	// (re)write it.
	f, err := os.CreateTemp(dir, ".tmp-"+sha[:12]+"-*")
	if err != nil {
		return "", fmt.Errorf("plugin module: %w", err)
	}
	_, werr := f.Write(module)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("plugin module: writing %s: %w", path, werr)
	}
	return path, nil
}

// moduleDir returns the directory of module files: modules/ in the cache
// directory, or, for a host whose compiled code stays in memory, a
// temporary directory of its own, removed by Close.
func (h *Host) moduleDir() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.modules != "" {
		return h.modules, nil
	}
	var dir string
	var err error
	if h.o.CacheDir != "" {
		dir = h.engine.ModuleDir()
		err = os.MkdirAll(dir, 0o700)
	} else {
		dir, err = os.MkdirTemp("", "hookd-modules-")
		h.tempModules = err == nil
	}
	if err != nil {
		return "", fmt.Errorf("plugin module directory: %w", err)
	}
	h.modules = dir
	return dir, nil
}

// moduleName is what errors call a module loaded from bytes: "module
// sha256:" and the start of its SHA-256, the name of its file.
func moduleName(path string) string {
	sha := strings.TrimSuffix(filepath.Base(path), ".wasm")
	return "module sha256:" + sha[:min(12, len(sha))]
}

// renamed is a load error of a module from bytes, its file's path
// replaced by the module's name (moduleName); errors.Is and As see the
// original.
type renamed struct {
	err        error
	path, name string
}

func (e *renamed) Error() string { return strings.ReplaceAll(e.err.Error(), e.path, e.name) }
func (e *renamed) Unwrap() error { return e.err }

// PruneModules removes the module files, and their compiled code, of the
// binaries keep does not hold (keep: the SHA-256 of every stored version
// of every domain), once unused for wasmhost.UnusedAge and held by no
// process sharing the cache directory; then it prunes the compilation
// cache as usual (wasmhost.Engine.PruneModules). A no-op for a host whose
// modules stay in its own temporary directory.
func (h *Host) PruneModules(ctx context.Context, keep func(sha string) bool) (wasmhost.PruneReport, error) {
	if h.o.CacheDir == "" {
		return wasmhost.PruneReport{}, nil
	}
	return h.engine.PruneModules(ctx, keep)
}

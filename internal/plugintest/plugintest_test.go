package plugintest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// entries counts the compiled modules in the cache directory at dir (one
// entry per binary, holding wazero's files: see internal/wasmhost/cache.go).
func entries(t *testing.T, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "wazero-*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestCompilerKeyMatchesTheEngine: what ./compiler puts in a cache, for
// this binary's wazero version, is what wasmhost's engine looks for (same
// wazero configuration, so the same key): the engine loads the plugin
// without adding an entry of its own. If this fails, Build no longer
// spares test binaries the compilation (slow under -race), nothing worse.
func TestCompilerKeyMatchesTheEngine(t *testing.T) {
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	c, err := getCache()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasm := filepath.Join("..", "wasmhost", "testdata", "echo.wasm")
	if err := c.precompile(gobin, dir, wasm); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, dir); n != 1 {
		t.Fatalf("%d entries after compiling one module", n)
	}
	ctx := context.Background()
	e, err := wasmhost.NewEngine(ctx, wasmhost.Options{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	p, err := e.Load(ctx, wasm, wasmhost.Limits{Instances: 1, Timeout: Timeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if n := entries(t, dir); n != 1 {
		t.Errorf("%d entries after the engine loaded the module: its cache key or version is not the compiler's", n)
	}
}

// TestWazeroVersion: the shared cache is keyed by wazero's version.
func TestWazeroVersion(t *testing.T) {
	t.Parallel()
	if v := wazeroVersion(); !strings.HasPrefix(v, "v") {
		t.Errorf("wazeroVersion() = %q, want the version in go.mod", v)
	}
}

// TestKeep: a build is kept under its content's name, once.
func TestKeep(t *testing.T) {
	t.Parallel()
	c := &cache{root: t.TempDir()}
	if err := c.mkdirs(); err != nil {
		t.Fatal(err)
	}
	a1, err := c.keep("p", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.keep("p", []byte("one"))
	b, _ := c.keep("p", []byte("two"))
	if a1 != a2 || a1 == b {
		t.Errorf("paths %s %s %s", a1, a2, b)
	}
	if got, err := os.ReadFile(b); err != nil || string(got) != "two" {
		t.Errorf("%s: %q %v", b, got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(c.root, "wasm", "*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

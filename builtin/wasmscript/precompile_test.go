package wasmscript_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
)

// TestPrecompileFillsTheCache: Precompile writes a stored module's bytes
// to its content-addressed file and compiles it into the cache directory
// without loading it; another host on the same directory then finds it
// compiled, and loads it without compiling (no "wasm module compiled"
// line). Bytes that do not match their stored SHA-256 are refused.
func TestPrecompileFillsTheCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	host := func(logs *lockedLog) *wasmscript.Host {
		o := wasmscript.HostOptions{CacheDir: dir, PrivateDir: t.TempDir()}
		if logs != nil {
			o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		}
		h, err := wasmscript.NewHost(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		return h
	}
	mod, err := os.ReadFile(fixture(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(mod)
	sha := hex.EncodeToString(sum[:])
	a := host(nil)
	if a.Compiled(sha) {
		t.Fatal("Compiled before Precompile")
	}
	if err := a.Precompile(ctx, mod, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "modules", sha+".wasm")); err != nil {
		t.Fatalf("module file: %v", err)
	}
	if len(a.Plugins()) != 0 {
		t.Errorf("Precompile loaded a plugin: %+v", a.Plugins())
	}
	var logs lockedLog
	b := host(&logs)
	if !b.Compiled(strings.ToUpper(sha)) {
		t.Fatal("another host on the directory does not find the compiled code")
	}
	if _, err := b.Load(ctx, wasmscript.Spec{Domain: "5", Module: mod, SHA256: sha}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "wasm module compiled") {
		t.Errorf("the load compiled again:\n%s", logs.String())
	}
	err = a.Precompile(ctx, mod, strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), "but it was stored as") {
		t.Errorf("bytes that do not match their SHA-256: %v", err)
	}
}

// lockedLog is a log sink safe for concurrent writers.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

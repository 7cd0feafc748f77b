package wasmhost

import (
	"context"
	"github.com/hookrt/hookd/internal/testsupport"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
)

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer = testsupport.LogBuffer

// TestCompiledAndTheCompileLine: Compiled tells a binary compiled into
// the cache directory (by Compile, ahead of any load) from one that is
// not, and a compile is logged once: an engine that loads the binary
// afterwards reads it back without compiling (no second line).
func TestCompiledAndTheCompileLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs lockedBuffer
	e, err := NewEngine(context.Background(), Options{CacheDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	sha := shaOf(t, "echo")
	if e.Compiled(sha) {
		t.Fatal("Compiled is true in an empty cache directory")
	}
	if err := e.Compile(context.Background(), fixture("echo")); err != nil {
		t.Fatal(err)
	}
	if !e.Compiled(sha) {
		t.Fatal("Compiled is false after Compile")
	}
	if n := strings.Count(logs.String(), "wasm module compiled"); n != 1 {
		t.Fatalf("%d compile lines after Compile; want 1:\n%s", n, logs.String())
	}
	load(t, e, "echo", Limits{Instances: 1}, hostfn.Grants{})
	if n := strings.Count(logs.String(), "wasm module compiled"); n != 1 {
		t.Fatalf("%d compile lines after a Load of the compiled binary; want still 1:\n%s", n, logs.String())
	}
	if e.Compiled("not-a-sha") || cacheEngine(t, t.TempDir()).Compiled(sha) {
		t.Error("Compiled is true for a bad name or another directory")
	}
	if newEngine(t).Compiled(sha) {
		t.Error("Compiled is true without a cache directory")
	}
}

package wasmhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
)

// TestReloadLooksAtTheStatFirst: a poll reads the file only when its stat
// (file, size, mtime) changed, and a refused file is refused once: later
// polls are silent until the file changes again.
func TestReloadLooksAtTheStatFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, "ok", path)
	p, err := newEngine(t).Load(ctx, path, Limits{Instances: 1, Timeout: testTimeout}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	okSHA := p.SHA256()

	// Garbage of the same size, written in place with the old mtime: the
	// stat is the same, so the file is not read (were it read, it would be
	// refused).
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, fi.Size()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if swapped, err := p.Reload(ctx); swapped || err != nil {
		t.Fatalf("reload of an unchanged stat: %v %v; want nothing read", swapped, err)
	}
	// A new mtime: read, refused once, then silent.
	if err := os.Chtimes(path, fi.ModTime().Add(1e9), fi.ModTime().Add(1e9)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reload(ctx); err == nil || !strings.Contains(err.Error(), "keeps serving") {
		t.Fatalf("reload of garbage: %v, want a refusal", err)
	}
	for range 3 {
		if swapped, err := p.Reload(ctx); swapped || err != nil {
			t.Fatalf("reload of the same refused file: %v %v; want silence", swapped, err)
		}
	}
	if p.Refusal() == nil || p.SHA256() != okSHA {
		t.Errorf("refusal %v, sha %s", p.Refusal(), p.SHA256())
	}
	// Missing: said once. Back with the running binary: no swap, the
	// refusal forgotten.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reload(ctx); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reload of a missing file: %v", err)
	}
	if swapped, err := p.Reload(ctx); swapped || err != nil {
		t.Errorf("second reload of a missing file: %v %v; want silence", swapped, err)
	}
	copyFile(t, "ok", path)
	if swapped, err := p.Reload(ctx); swapped || err != nil || p.Refusal() != nil {
		t.Errorf("the same binary back: %v %v, refusal %v", swapped, err, p.Refusal())
	}
	copyFile(t, "echo", path)
	if swapped, err := p.Reload(ctx); !swapped || err != nil {
		t.Errorf("a new binary: %v %v", swapped, err)
	}
}

// TestPinnedSHA256: with Limits.SHA256 set, only that binary loads, at
// load and at reload; a reload to another file is refused (once) and the
// pinned version keeps serving.
func TestPinnedSHA256(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t)
	okSHA := shaOf(t, "ok")
	pin := Limits{Instances: 1, Timeout: testTimeout, SHA256: strings.ToUpper(okSHA)} // any case
	_, err := e.Load(ctx, fixture("echo"), pin, hostfn.Grants{})
	if !errors.Is(err, ErrPinned) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), shaOf(t, "echo")) ||
		!strings.Contains(err.Error(), "pinned to "+okSHA) {
		t.Fatalf("load of another binary: %v", err)
	}
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, "ok", path)
	p, err := e.Load(ctx, path, pin, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	copyFile(t, "echo", path)
	if swapped, err := p.Reload(ctx); swapped || !errors.Is(err, ErrPinned) || !strings.Contains(err.Error(), "keeps serving") {
		t.Fatalf("reload to another binary: %v %v", swapped, err)
	}
	if swapped, err := p.Reload(ctx); swapped || err != nil {
		t.Errorf("second reload of it: %v %v; want silence", swapped, err)
	}
	if out, err := p.Call(ctx, event("x")); err != nil || string(out.Reply) != "<nomessage/>" || p.SHA256() != okSHA {
		t.Errorf("the pinned version no longer serves: %q %v", out.Reply, err)
	}
}

package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/wasmhost"
	hookrt "github.com/hookrt/hookd/runtime"
)

// ageCache sets the mtime of every module file and compilation cache entry
// lock in cache to two wasmhost.UnusedAges ago: the files' age is injected,
// not waited for.
func ageCache(t *testing.T, cache string) {
	t.Helper()
	modules, _ := filepath.Glob(filepath.Join(cache, wasmhost.ModulesDir, "*.wasm"))
	locks, _ := filepath.Glob(filepath.Join(cache, "*", "lock"))
	at := time.Now().Add(-2 * wasmhost.UnusedAge)
	for _, p := range append(modules, locks...) {
		if err := os.Chtimes(p, at, at); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func present(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func moduleFile(cache, sha string) string {
	return filepath.Join(cache, wasmhost.ModulesDir, sha+".wasm")
}

// TestDeletedVersionsPruned: a deleted plugin version's module file and
// compiled code leave the node's cache (once unused for the grace age),
// while the running version's and a stored inactive one's stay; deleting
// the domain frees those too. The node notices the deletes by itself.
func TestDeletedVersionsPruned(t *testing.T) {
	ctx := context.Background()
	n := openPrecompileNodes(t, storetest.SQLite(t), 1, false)[0]
	op := hook.Operator()
	m1, s1 := replyModule(t, "prun1")
	m2, s2 := replyModule(t, "prun2")
	m3, s3 := replyModule(t, "prun3")
	for i, m := range [][]byte{m1, m2, m3} {
		if _, err := n.rt.PushPlugin(ctx, op, "53", m, nil, i < 2); err != nil {
			t.Fatal(err)
		}
	}
	waitRunning(t, n.rt, "53", true, s2)
	waitFor(t, "version 3 to be compiled ahead", func() bool { return compiledIn(n.cache, s3) })
	for _, sha := range []string{s1, s2, s3} {
		if !present(moduleFile(n.cache, sha)) || !compiledIn(n.cache, sha) {
			t.Fatalf("module %s: file %v, compiled %v; want both", sha, present(moduleFile(n.cache, sha)), compiledIn(n.cache, sha))
		}
	}
	ageCache(t, n.cache)

	if err := n.rt.DeletePluginVersion(ctx, op, "53", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted version's module file and compiled code to be pruned", func() bool {
		return !present(moduleFile(n.cache, s1)) && !present(filepath.Join(n.cache, s1))
	})
	for _, sha := range []string{s2, s3} {
		if !present(moduleFile(n.cache, sha)) || !compiledIn(n.cache, sha) {
			t.Errorf("module %s (running, or stored): file %v, compiled %v; want both kept", sha, present(moduleFile(n.cache, sha)), compiledIn(n.cache, sha))
		}
	}

	if err := n.rt.DeleteDomain(ctx, op, "53"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted domain's module files and compiled code to be pruned", func() bool {
		return !present(moduleFile(n.cache, s2)) && !present(moduleFile(n.cache, s3)) &&
			!present(filepath.Join(n.cache, s2)) && !present(filepath.Join(n.cache, s3))
	})
}

// TestModulePruneTimerAndRequest: a module file no version references
// (a push whose store write failed, a file another store's node left) goes
// at the precompiler's slow timer, and when a node asks after a delete,
// without any version being deleted from the store; a stored version's
// stays, whatever its age.
func TestModulePruneTimerAndRequest(t *testing.T) {
	ctx := context.Background()
	n := openPrecompileNodes(t, storetest.SQLite(t), 1, false)[0]
	mod, sha := replyModule(t, "kept1")
	if _, err := n.rt.PushPlugin(ctx, hook.Operator(), "54", mod, nil, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stored version to be compiled ahead", func() bool { return compiledIn(n.cache, sha) })
	leftover := func(tag string) string {
		m, s := replyModule(t, tag)
		p := moduleFile(n.cache, s)
		if err := os.WriteFile(p, m, 0o600); err != nil {
			t.Fatal(err)
		}
		ageCache(t, n.cache)
		return p
	}

	timer := leftover("left1")
	hookrt.AdvancePruneClock(n.rt, hookrt.ModulePruneEvery+time.Minute)
	waitFor(t, "the slow timer's prune", func() bool { return !present(timer) })

	asked := leftover("left2")
	hookrt.AfterDelete(n.rt)
	waitFor(t, "the prune asked for after a delete", func() bool { return !present(asked) })
	if !present(moduleFile(n.cache, sha)) || !compiledIn(n.cache, sha) {
		t.Error("a stored version's module file or compiled code was pruned")
	}
}

// TestNeededModuleWrittenAgain: a stored version whose module file and
// compiled code are gone (another process sharing cache_dir pruned them,
// or an operator cleared the directory) is written again from the store,
// compiled, and runs when it is activated.
func TestNeededModuleWrittenAgain(t *testing.T) {
	ctx := context.Background()
	n := openPrecompileNodes(t, storetest.SQLite(t), 1, false)[0]
	mod, sha := replyModule(t, "again")
	if _, err := n.rt.PushPlugin(ctx, hook.Operator(), "55", mod, nil, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stored version to be compiled ahead", func() bool { return compiledIn(n.cache, sha) })
	for _, p := range []string{moduleFile(n.cache, sha), filepath.Join(n.cache, sha)} {
		// The node's own prunes may make an entry's lock file again while
		// it is being removed (the directory is then not empty): remove
		// it again, as an operator clearing the directory would.
		var err error
		waitFor(t, "removing "+p, func() bool { err = os.RemoveAll(p); return !errors.Is(err, syscall.ENOTEMPTY) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.rt.ActivatePlugin(ctx, hook.Operator(), "55", 1); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, n.rt, "55", true, sha)
	if b, err := os.ReadFile(moduleFile(n.cache, sha)); err != nil || string(b) != string(mod) {
		t.Errorf("module file after the activation: %v", err)
	}
}

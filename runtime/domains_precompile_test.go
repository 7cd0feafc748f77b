package runtime_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// precompileNode is a runtime with its own empty compilation cache and
// its own log.
type precompileNode struct {
	rt    *hookrt.Runtime
	cache string // its [plugins] cache_dir
	logs  *syncBuffer
}

// openPrecompileNodes opens n runtimes on one store, each with its own
// cache directory and log; pollOnly turns their PostgreSQL listeners off.
func openPrecompileNodes(t *testing.T, st hookrt.StoreConfig, n int, pollOnly bool) []precompileNode {
	t.Helper()
	var nodes []precompileNode
	for i := range n {
		cfg := domainsConfig(t, st) // cfg.Dir is a new temporary directory: an empty cache
		cfg.Server.ServerID = fmt.Sprint("node-", i)
		logs := &syncBuffer{}
		rt := openDomains(t, cfg, hookrt.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
		if pollOnly {
			if err := hookrt.StartDomainsPolling(context.Background(), rt, cfg); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, precompileNode{rt: rt, cache: filepath.Join(cfg.Dir, wasmscript.DefaultCacheDir), logs: logs})
	}
	return nodes
}

// compiledIn reports whether cache holds the compiled code of the binary
// sha (wazero's file in the binary's entry; a .tmp one is being written).
func compiledIn(cache, sha string) bool {
	files, _ := filepath.Glob(filepath.Join(cache, sha, "wazero-*", "*"))
	for _, f := range files {
		if !strings.HasSuffix(f, ".tmp") {
			return true
		}
	}
	return false
}

// compiles counts the node's log lines saying the binary sha was compiled
// (not read back from its cache).
func (n precompileNode) compiles(sha string) int {
	c := 0
	for _, l := range strings.Split(n.logs.String(), "\n") {
		if strings.Contains(l, `msg="wasm module compiled"`) && strings.Contains(l, "sha256="+sha) {
			c++
		}
	}
	return c
}

// waitFor waits until cond holds; the bound is for a hung test, not a
// budget (a 2.8 MB module compiles in seconds on a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestStoredVersionCompiledBeforeActivation: a version pushed with
// activate=false on node A is compiled into node B's own cache before
// anyone activates it (told by a notification, or, without one, found by
// the scan), and the activation then compiles nothing on either node:
// the one compile on each node is the trial build (A) or the one ahead of
// activation (B).
func TestStoredVersionCompiledBeforeActivation(t *testing.T) {
	for _, mode := range []string{"listen", "poll"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			nodes := openPrecompileNodes(t, storetest.Postgres(t), 2, mode == "poll")
			a, b := nodes[0], nodes[1]
			mod, sha := replyModule(t, "ahead")
			if _, err := a.rt.PushPlugin(ctx, hook.Operator(), "51", mod, nil, false); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "node B to compile the version stored on node A", func() bool { return compiledIn(b.cache, sha) })
			if _, ok := hookrt.RunningDomain(b.rt, "51"); ok {
				t.Fatal("node B runs a version nobody activated")
			}
			waitFor(t, "node B's log line", func() bool {
				return strings.Contains(b.logs.String(), "stored plugin version compiled ahead of activation")
			})
			if !compiledIn(a.cache, sha) || a.compiles(sha) != 1 || b.compiles(sha) != 1 {
				t.Fatalf("before activation: A cached %v, compiles A %d B %d; want cached, 1 and 1",
					compiledIn(a.cache, sha), a.compiles(sha), b.compiles(sha))
			}
			if _, err := a.rt.ActivatePlugin(ctx, hook.Operator(), "51", 1); err != nil {
				t.Fatal(err)
			}
			waitRunning(t, a.rt, "51", true, sha)
			waitRunning(t, b.rt, "51", true, sha)
			if a.compiles(sha) != 1 || b.compiles(sha) != 1 {
				t.Fatalf("the activation compiled again: compiles A %d B %d; want 1 and 1\nB's log:\n%s",
					a.compiles(sha), b.compiles(sha), b.logs.String())
			}
		})
	}
}

// TestColdCacheActivationFigures measures, with three nodes on one
// PostgreSQL and each node's own empty cache, the time from the call
// that makes a new 2.8 MB Go-built module run to its running on every
// node: pushed and activated at once (each other node compiles it on
// arrival), and pushed with activate=false, then activated, with and
// without compiling ahead. Logged, not asserted (figures in
// docs/benchmarks.md); what it asserts is that compiling ahead leaves
// the activation nothing to compile.
func TestColdCacheActivationFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a Go plugin on three nodes")
	}
	guard, err := os.ReadFile(plugintest.Build(t, signupGuard))
	if err != nil {
		t.Fatal(err)
	}
	settings := []byte(`{"plugin": {"timeout": "1m", "state": true}, "config": {"allow": ["example.com"]}}`)
	// variant is the guard with a custom section of its own: another
	// binary (another SHA-256, nothing cached anywhere) that runs alike.
	variant := func(tag string) ([]byte, string) {
		name := "hookd-test-" + tag
		sec := append(append([]byte{byte(len(name))}, name...), '!') // wazero wants a payload

		b := append(append([]byte{}, guard...), 0, byte(len(sec)))
		b = append(b, sec...)
		sum := sha256.Sum256(b)
		return b, hex.EncodeToString(sum[:])
	}
	op := hook.Operator()
	// everywhere waits for every node to run sha, and says when each did.
	everywhere := func(nodes []precompileNode, id, sha string, from time.Time) string {
		t.Helper()
		at := make([]time.Duration, len(nodes))
		for pending := len(nodes); pending > 0; time.Sleep(5 * time.Millisecond) {
			for i, n := range nodes {
				if got, ok := hookrt.RunningDomain(n.rt, id); at[i] == 0 && ok && got == sha {
					at[i], pending = time.Since(from), pending-1
				}
			}
			if time.Since(from) > 2*time.Minute {
				t.Fatalf("domain %s: not running %s on every node after 2 minutes (%v)", id, sha, at)
			}
		}
		return fmt.Sprintf("%s (nodes 0, 1, 2: %s, %s, %s)", slices.Max(at).Round(time.Millisecond),
			at[0].Round(time.Millisecond), at[1].Round(time.Millisecond), at[2].Round(time.Millisecond))
	}
	for _, ahead := range []bool{false, true} {
		t.Run(fmt.Sprint("ahead=", ahead), func(t *testing.T) {
			hookrt.SetPrecompile(t, ahead)
			ctx := context.Background()
			nodes := openPrecompileNodes(t, storetest.Postgres(t), 3, false)

			mod, sha := variant(fmt.Sprint("now-", ahead))
			start := time.Now()
			if _, err := nodes[0].rt.PushPlugin(ctx, op, "61", mod, settings, true); err != nil {
				t.Fatal(err)
			}
			t.Logf("push + activate at once (cold caches) on node 0: running on all 3 nodes %s after the call began",
				everywhere(nodes, "61", sha, start))

			mod, sha = variant(fmt.Sprint("later-", ahead))
			if _, err := nodes[0].rt.PushPlugin(ctx, op, "62", mod, settings, false); err != nil {
				t.Fatal(err)
			}
			if ahead {
				start = time.Now()
				for _, n := range nodes {
					waitFor(t, "every node to compile the stored version", func() bool { return compiledIn(n.cache, sha) })
				}
				t.Logf("push -activate=false: compiled on all 3 nodes %s after the call returned", time.Since(start).Round(time.Millisecond))
			}
			start = time.Now()
			if _, err := nodes[1].rt.ActivatePlugin(ctx, op, "62", 1); err != nil {
				t.Fatal(err)
			}
			called := time.Since(start)
			t.Logf("then activate on node 1: running on all 3 nodes %s after the call began (the call took %s)",
				everywhere(nodes, "62", sha, start), called.Round(time.Millisecond))
			if ahead {
				for i, n := range nodes {
					if c := n.compiles(sha); c != 1 {
						t.Errorf("node %d compiled the version %d times; want once, before activation", i, c)
					}
				}
			}
		})
	}
}

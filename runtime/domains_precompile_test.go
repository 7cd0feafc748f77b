package runtime_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
func openPrecompileNodes(t testing.TB, st hookrt.StoreConfig, n int, pollOnly bool) []precompileNode {
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
func waitFor(t testing.TB, what string, cond func() bool) {
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

// BenchmarkColdCacheActivation measures, with three nodes on one
// PostgreSQL and each node's own empty cache, the time from the call that
// makes a new 2.8 MB Go-built module run to its running on every node:
// pushed and activated at once (each other node compiles it on arrival),
// and pushed with activate=false, then activated, with and without
// compiling ahead (docs/benchmarks.md, "Issue 17"). That compiling ahead
// leaves the activation nothing to compile is
// TestStoredVersionCompiledBeforeActivation's.
//
//	go test -run '^$' -bench BenchmarkColdCacheActivation -benchtime 2x ./runtime/
func BenchmarkColdCacheActivation(b *testing.B) {
	guard, err := os.ReadFile(plugintest.Build(b, signupGuard))
	if err != nil {
		b.Fatal(err)
	}
	settings := []byte(`{"plugin": {"timeout": "1m", "state": true}, "config": {"allow": ["example.com"]}}`)
	// variant is the guard with a custom section of its own: another
	// binary (another SHA-256, nothing cached anywhere) that runs alike.
	variant := func(tag string) ([]byte, string) {
		name := "hookd-bench-" + tag
		sec := append(append([]byte{byte(len(name))}, name...), '!') // wazero wants a payload
		m := append(append([]byte{}, guard...), 0, byte(len(sec)))
		m = append(m, sec...)
		sum := sha256.Sum256(m)
		return m, hex.EncodeToString(sum[:])
	}
	op := hook.Operator()
	// everywhere waits for every node to run sha and returns when the
	// last one did.
	everywhere := func(nodes []precompileNode, id, sha string, from time.Time) time.Duration {
		var last time.Duration
		for pending := map[int]bool{0: true, 1: true, 2: true}; len(pending) > 0; time.Sleep(5 * time.Millisecond) {
			for i := range pending {
				if got, ok := hookrt.RunningDomain(nodes[i].rt, id); ok && got == sha {
					delete(pending, i)
					last = time.Since(from)
				}
			}
			if time.Since(from) > 2*time.Minute {
				b.Fatalf("domain %s: not running %s on every node after 2 minutes", id, sha)
			}
		}
		return last
	}
	st := storetest.Postgres(b)
	seq := 0 // domain ids and module variants, new for every round of every run
	for _, ahead := range []bool{false, true} {
		b.Run(fmt.Sprint("ahead=", ahead), func(b *testing.B) {
			hookrt.SetPrecompile(b, ahead)
			ctx := context.Background()
			var now, later time.Duration
			for range b.N {
				seq++
				idNow, idLater := fmt.Sprint("6", seq, "1"), fmt.Sprint("6", seq, "2")
				b.StopTimer()
				nodes := openPrecompileNodes(b, st, 3, false)
				b.StartTimer()
				mod, sha := variant(fmt.Sprint("now-", seq))
				start := time.Now()
				if _, err := nodes[0].rt.PushPlugin(ctx, op, idNow, mod, settings, true); err != nil {
					b.Fatal(err)
				}
				now += everywhere(nodes, idNow, sha, start)

				mod, sha = variant(fmt.Sprint("later-", seq))
				if _, err := nodes[0].rt.PushPlugin(ctx, op, idLater, mod, settings, false); err != nil {
					b.Fatal(err)
				}
				if ahead {
					for _, n := range nodes {
						waitFor(b, "every node to compile the stored version", func() bool { return compiledIn(n.cache, sha) })
					}
				}
				start = time.Now()
				if _, err := nodes[1].rt.ActivatePlugin(ctx, op, idLater, 1); err != nil {
					b.Fatal(err)
				}
				later += everywhere(nodes, idLater, sha, start)
			}
			b.ReportMetric(float64(now.Milliseconds())/float64(b.N), "ms-push+activate")
			b.ReportMetric(float64(later.Milliseconds())/float64(b.N), "ms-activate-stored")
		})
	}
}

package httpevents_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/timingtest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// BenchmarkPluginDeadlineOvershoot measures how long after its deadline a
// looping plugin is reported stopped through the daemon's whole path: Emit
// on SQLite, the engine's direct attempt under its timeout wrapper,
// Script.Handle, the plugin call and wazero's close on the deadline. One
// looping call at a time (halfloop.wasm: an instance answers its first call
// and loops on its second, so the breaker never backs it off); each
// attempt's latency as the engine records it, minus the plugin's timeout,
// reported as p50, p99 and max. "quiet": nothing else runs; "busy": 500
// events a second go meanwhile to another domain's HTTP script (a real
// server on loopback), so the engine, SQLite, HTTP and the garbage
// collector work beside the loop. -benchtime Nx = N looping calls.
func BenchmarkPluginDeadlineOvershoot(b *testing.B) {
	for _, load := range []string{"quiet", "busy"} {
		b.Run(load, func(b *testing.B) { benchOvershoot(b, load == "busy") })
	}
}

func benchOvershoot(b *testing.B, busy bool) {
	const timeout = 50 * time.Millisecond
	wasm, err := filepath.Abs(filepath.Join("..", "..", "internal", "wasmhost", "testdata", "halfloop.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, _ = w.Write([]byte("<nomessage/>"))
	}))
	defer web.Close()
	cfg, err := hookrt.ParseConfig([]byte(fmt.Sprintf(`
[delivery]
retry_schedule = ["1h"]
breaker_threshold = 1000000
[http_events]
per_domain = true
per_domain_strict = true
allow_private = ["127.0.0.0/8"]
[plugins]
cache_dir = %q
reload_interval = 0
[[domain]]
id = "loop"
script = %q
[domain.plugin]
timeout = %q
instances = 1
[[domain]]
id = "web"
script = %q
`, b.TempDir(), wasm, timeout, web.URL)), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store = storetest.SQLite(b)
	attempts := make(chan hook.Observation, 16)
	loopTarget := httpevents.DomainTargetPrefix + "loop"
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(func(_ context.Context, o hook.Observation) {
		if o.Attempt > 0 && o.Target == loopTarget {
			attempts <- o
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	ctx := context.Background()
	if busy {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					_, _ = rt.Emit(ctx, event("web", "NEWSESSION"))
				}
			}
		})
		defer func() {
			close(done)
			wg.Wait()
		}()
	}
	var over []time.Duration
	for b.Loop() {
		for {
			if _, err := rt.Emit(ctx, event("loop", "NEWSESSION")); err != nil {
				b.Fatal(err)
			}
			if o := <-attempts; o.Err != nil {
				over = append(over, o.Latency-timeout)
				break
			}
		}
	}
	timingtest.ReportOvershoot(b, over)
}

package wasmscript_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// TestLoopingDomainsDoNotStarveOthers: the domains of more looping plugins
// than the machine has processors, each called by 4 workers (as delivery
// workers would), and as many goroutines spinning as there are processors,
// do not keep a well-behaved domain from answering within its deadline:
// 100 calls out of 100. Each looping plugin runs at most half the
// processors' worth of calls at once, and is backed off after 3 calls in a
// row ran out their deadline (fair.go in internal/wasmhost).
//
// The well-behaved plugin's deadline is large (5 s), as for a loaded
// machine under -race: the property is that it is never starved, not
// that it is fast; its latencies are logged. Not parallel: it loads the
// machine on purpose.
func TestLoopingDomainsDoNotStarveOthers(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	procs := runtime.GOMAXPROCS(0)
	var loopers []*wasmscript.Script
	for i := range 2*procs + 1 {
		s, err := h.Load(ctx, wasmscript.Spec{Domain: fmt.Sprintf("loop%d", i), Path: fixture(t, "loop"), Strict: true,
			Settings: wasmscript.Settings{Instances: 4}}) // the production deadline, 250 ms
		if err != nil {
			t.Fatal(err)
		}
		loopers = append(loopers, s)
	}
	good, err := h.Load(ctx, wasmscript.Spec{Domain: "good", Path: fixture(t, "echo"), Strict: true,
		Settings: wasmscript.Settings{Instances: 4, Timeout: hook.Duration(5 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range procs { // CPU hogs
		wg.Go(func() {
			for n := 0; ; n++ {
				if n%4096 == 0 {
					select {
					case <-stop:
						return
					default:
					}
				}
			}
		})
	}
	for _, s := range loopers {
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.Handle(ctx, event("1")); err == nil {
						t.Error("a looping plugin succeeded")
					}
				}
			})
		}
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	// Every looping plugin has run out a deadline: they all loop now.
	for _, s := range loopers {
		for s.Status().Calls[hook.PluginDeadline] == 0 {
			runtime.Gosched()
		}
	}

	var lat []time.Duration
	ok := 0
	for i := range 100 {
		start := time.Now()
		_, err := good.Handle(ctx, event(fmt.Sprint(i)))
		lat = append(lat, time.Since(start))
		if err != nil {
			t.Errorf("call %d of the well-behaved plugin: %v", i, err)
			continue
		}
		ok++
	}
	slices.Sort(lat)
	var deadlines, backedOff int64
	for _, s := range loopers {
		st := s.Status()
		deadlines += st.Calls[hook.PluginDeadline]
		backedOff += st.Calls[hook.PluginFailed]
	}
	t.Logf("well-behaved: %d/100 ok; latency p50 %s, p99 %s, max %s; %d looping plugins: %d calls ran out their deadline, %d were refused (backed off)",
		ok, lat[50].Round(time.Microsecond), lat[98].Round(time.Microsecond), lat[99].Round(time.Microsecond),
		len(loopers), deadlines, backedOff)
	if ok != 100 {
		t.Errorf("%d/100 calls of the well-behaved plugin ok", ok)
	}
}

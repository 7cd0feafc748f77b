package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestFaultConcurrentStart: several nodes started at the same moment on an
// empty PostgreSQL database all come up. One migrates hookd's and River's
// tables under an advisory lock while the others wait; before, River's
// migrations ran unlocked beside each other and 2 of 3 nodes exited with
// "relation already exists" or a duplicate key in pg_type.
//
// Each round takes a fresh database, so that every round races on an empty
// schema; the nodes are real runtimes, each with its own connection pool, so
// the race is a real one on the server.
func TestFaultConcurrentStart(t *testing.T) {
	const nodes, rounds = 3, 3
	for round := range rounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			st := storetest.Postgres(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  = make([]error, nodes)
				rts   = make([]*hookrt.Runtime, nodes)
			)
			for i := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cfg := hookrt.DefaultConfig()
					cfg.Store = st
					cfg.Server.ServerID = fmt.Sprint("node-", i)
					<-start
					rts[i], errs[i] = hookrt.Open(ctx, cfg)
				}()
			}
			close(start)
			wg.Wait()
			for i, rt := range rts {
				if rt != nil {
					closeCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
					if err := rt.Close(closeCtx); err != nil {
						t.Errorf("node %d: Close: %v", i, err)
					}
					stop()
				}
			}
			for i, err := range errs {
				if err != nil {
					t.Errorf("node %d of %d started together did not come up: %v", i, nodes, err)
				}
			}
		})
	}
}

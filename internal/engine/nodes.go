package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/hookrt/hookd/internal/store"
)

// On PostgreSQL several nodes deliver from one store, and a target's rate
// limit is divided between them (ratelimit.go). Each node with workers
// beats into hookd_node every beatInterval and counts the nodes that beat
// within beatWindow; when the count changes, every rate limit is divided
// anew. On SQLite one process owns the store: the count is 1 and nothing
// beats.
const (
	beatInterval = time.Second
	// beatWindow is how recent a beat must be for its node to count: three
	// beats, so that one late beat (a busy store, a GC pause) does not
	// double every other node's share for a moment.
	beatWindow = 3 * time.Second
)

// nodeID names this engine in hookd_node: the server id and a random
// suffix, since several nodes may share a server id and a restart is a
// new node.
func nodeID(serverID string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return serverID + "/" + hex.EncodeToString(b)
}

// heart beats for a node until stopped.
type heart struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startHeart beats once (so that the limits are divided before the first
// delivery) and then every beatInterval, on PostgreSQL; on SQLite it does
// nothing and returns nil.
func startHeart(ctx context.Context, e *Engine) *heart {
	if e.db.Dialect() != store.Postgres {
		return nil
	}
	e.beat(ctx)
	bctx, cancel := context.WithCancel(context.Background())
	h := &heart{cancel: cancel}
	h.done.Go(func() {
		t := time.NewTicker(beatInterval)
		defer t.Stop()
		for {
			select {
			case <-bctx.Done():
				return
			case <-t.C:
			}
			e.beat(bctx)
		}
	})
	return h
}

// beat records this node's heartbeat, counts the nodes and divides the
// rate limits between them. A failed beat keeps the last count: the store
// is unreachable, and so are the deliveries.
func (e *Engine) beat(ctx context.Context) {
	n, err := e.db.Heartbeat(ctx, e.node, beatWindow)
	if err != nil {
		if ctx.Err() == nil {
			e.log.WarnContext(ctx, "node heartbeat failed; rate limits stay divided as they were",
				slog.Int("nodes", int(e.nodes.Load())), slog.Any("error", err))
		}
		return
	}
	if old := e.nodes.Swap(int64(n)); old != int64(n) {
		e.log.InfoContext(ctx, "nodes sharing the targets' rate limits", slog.Int("nodes", n), slog.Int("were", int(old)))
	}
	// Every beat, not only on a change: a target built by SetTargets
	// between the count and the swap of its set is divided at the next.
	for _, t := range e.current().order {
		t.rate.share(n)
	}
}

// stop ends the beats and removes this node's, so that the others take up
// its share at their next beat. A nil heart is a no-op.
func (h *heart) stop(ctx context.Context, e *Engine) {
	if h == nil {
		return
	}
	h.cancel()
	h.done.Wait()
	if err := e.db.ForgetNode(ctx, e.node); err != nil {
		e.log.WarnContext(ctx, "removing this node's heartbeat; the others count it until it is old",
			slog.Duration("for", beatWindow), slog.Any("error", err))
	}
}

// Nodes returns how many nodes this engine divides its targets' rate
// limits between: those that beat lately on PostgreSQL, 1 on SQLite.
func (e *Engine) Nodes() int { return int(e.nodes.Load()) }

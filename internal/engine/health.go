package engine

import (
	"context"
	"sync"
	"time"

	"github.com/hookrt/hookd/internal/store"
)

// healthProbe caches the store's write health for a second, so that a
// health check polled by a load balancer does not write on every call.
type healthProbe struct {
	mu   sync.Mutex
	at   time.Time
	last error
}

const healthTTL = time.Second

func (h *healthProbe) check(ctx context.Context, db *store.DB) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < healthTTL {
		return h.last
	}
	err := db.Ping(ctx)
	if err == nil {
		err = db.WriteProbe(ctx)
	}
	h.at, h.last = time.Now(), err
	return err
}

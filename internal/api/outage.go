package api

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// outageSummaryEvery is how often a store outage is summarised in the log
// while requests keep being refused.
const outageSummaryEvery = 10 * time.Second

// outageLog turns the store-unavailable answers of an outage into a few
// log lines: one WARN when the first request is refused, a WARN summary
// (with the count refused since the last line) at most every
// outageSummaryEvery while refusals go on, and one INFO line when a
// request succeeds again. Before, every refused request logged a line of
// its own: ~54 a second per node during a PostgreSQL outage, which buried
// everything else and filled the disk that had just filled up.
//
// The summary is written by the next refusal after the interval, not by a
// timer, so an idle outage costs nothing and nothing needs stopping.
type outageLog struct {
	log   *slog.Logger
	now   func() time.Time
	every time.Duration

	// active mirrors down, so that ok costs one atomic load when all is
	// well.
	active atomic.Bool

	mu       sync.Mutex
	down     bool
	since    time.Time // first refusal of this outage
	lastLine time.Time // last line written about it
	count    int       // refused since the last line
	total    int       // this outage
}

// refused records one request answered 503 because the store was
// unavailable, and logs if this is the first or a summary is due.
func (o *outageLog) refused(ctx context.Context, method, path string, err error) {
	now := o.now()
	o.mu.Lock()
	if !o.down {
		o.down, o.since, o.lastLine, o.count, o.total = true, now, now, 0, 1
		o.active.Store(true)
		o.mu.Unlock()
		o.log.WarnContext(ctx, "store unavailable: refusing requests with 503 until it is back",
			"method", method, "path", path, "error", err, "summary_every", o.every)
		return
	}
	o.count++
	o.total++
	if now.Sub(o.lastLine) < o.every {
		o.mu.Unlock()
		return
	}
	n, total, since := o.count, o.total, o.since
	o.lastLine, o.count = now, 0
	o.mu.Unlock()
	o.log.WarnContext(ctx, "store still unavailable", "refused", n, "refused_total", total,
		"down_for", now.Sub(since).Round(time.Millisecond), "error", err)
}

// ok records a request served normally; if an outage was going on, it is
// over and that is logged once.
func (o *outageLog) ok(ctx context.Context) {
	if !o.active.Load() {
		return
	}
	o.mu.Lock()
	if !o.down {
		o.mu.Unlock()
		return
	}
	now := o.now()
	total, since := o.total, o.since
	o.down = false
	o.active.Store(false)
	o.mu.Unlock()
	o.log.InfoContext(ctx, "store available again", "refused_total", total,
		"down_for", now.Sub(since).Round(time.Millisecond))
}

package engine

import (
	"context"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/metrics"
)

// Snapshot makes the engine a metrics.Source: the store's gauges, and the
// targets' states as this node last read them (a cache at most 2 s old)
// with their breakers here.
func (e *Engine) Snapshot(ctx context.Context) (metrics.Snapshot, error) {
	g, err := e.db.Gauges(ctx)
	s := metrics.Snapshot{Deliveries: g.Deliveries, Jobs: g.Jobs,
		Targets:     map[string]int64{hook.TargetEnabled: 0, hook.TargetPaused: 0, hook.TargetDisabled: 0},
		BreakerOpen: make(map[string]bool, len(e.current().order))}
	now := time.Now()
	if !g.OldestPending.IsZero() {
		s.OldestPending = max(0, now.Sub(g.OldestPending))
	}
	for _, t := range e.current().order {
		state := hook.TargetEnabled
		if row, off := e.states.get(ctx, e.db, t.Name); off {
			state = row.State
		}
		s.Targets[state]++
		_, open := t.breaker.openUntilAt(now)
		s.BreakerOpen[t.Name] = open
		if open {
			s.BreakersOpen++
		}
	}
	return s, err
}

var _ metrics.Source = (*Engine)(nil)

package admin

import "github.com/hookrt/hookd/internal/ops"

// statsOf returns the chart's source a Backend offers: its Stats method
// ([StatsSource], which the runtime is); nil without one.
func statsOf(b Backend) func() ops.Stats {
	if src, ok := b.(StatsSource); ok {
		return src.Stats
	}
	return nil
}

package runtime

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

// Plugins returns where every WASM plugin of the runtime stands (its file,
// digest, warm instances, calls by outcome, reloads and last reload
// error), ordered by domain, for the admin page. It is empty when no
// module runs plugins.
//
//	for _, p := range rt.Plugins() {
//		fmt.Println(p.Domain, p.SHA256, p.Calls[hook.PluginOK])
//	}
func (rt *Runtime) Plugins() []hook.PluginStatus { return rt.mods.plugins() }

// plugins asks every module that runs plugins where they stand.
func (ms *modules) plugins() []hook.PluginStatus {
	var out []hook.PluginStatus
	for _, m := range ms.list {
		if pr, ok := m.(hook.PluginReporter); ok {
			out = append(out, pr.Plugins()...)
		}
	}
	slices.SortStableFunc(out, func(a, b hook.PluginStatus) int { return cmp.Compare(a.Domain, b.Domain) })
	return out
}

// StatsInterval and StatsWindow: [Runtime.Stats] reaches StatsWindow
// buckets of StatsInterval back.
const (
	StatsInterval = ops.StatsInterval
	StatsWindow   = ops.StatsWindow
)

// Stats are the recent delivery outcomes of this node, second by second:
// what the admin page's live chart draws. The type is the operations
// room's (internal/ops), so that the admin page reads it without
// importing the runtime and one ring is kept.
type Stats = ops.Stats

// StatsBucket is what happened to deliveries during one interval.
type StatsBucket = ops.StatsBucket

// Stats returns the delivery outcomes this node recorded in the last
// [StatsWindow] seconds. It takes a lock briefly and copies; call it as
// often as a chart refreshes.
func (rt *Runtime) Stats() Stats { return rt.stats.Snapshot() }

// withStats makes the runtime's own observer of delivery outcomes, which
// feeds [Runtime.Stats], and puts it first among o's observers.
func withStats(o *options) *ops.Recorder {
	s := ops.NewRecorder(time.Now)
	o.observers = append([]func(context.Context, hook.Observation){s.Observe}, o.observers...)
	return s
}

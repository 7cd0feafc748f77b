package runtime

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
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

// StatsWindow is how far back [Runtime.Stats] reaches, in buckets of
// [StatsInterval].
const (
	StatsInterval = time.Second
	StatsWindow   = 300 // five minutes of seconds
)

// Stats are the recent delivery outcomes of this node, second by second:
// what the admin page's live chart draws.
type Stats struct {
	// Interval is the width of a bucket: [StatsInterval].
	Interval time.Duration `json:"interval_ns"`
	// Buckets are the last [StatsWindow] intervals, oldest first; the
	// last one is the current, still filling, interval. Intervals with no
	// outcome are there too, with zero counts.
	Buckets []StatsBucket `json:"buckets"`
}

// StatsBucket is what happened to deliveries during one interval.
type StatsBucket struct {
	Start time.Time `json:"start"`
	// Delivered counts the deliveries acknowledged by their target.
	Delivered int `json:"delivered"`
	// Failed counts the attempts that failed (whatever came next: a retry
	// or the dead-letter list).
	Failed int `json:"failed"`
	// Dead counts the deliveries that went to the dead-letter list, with
	// or without an attempt (the maximum age, a disabled target).
	Dead int `json:"dead"`
	// P50 and P99 are the median and 99th percentile of the latency of
	// the attempts made (delivered or failed), 0 without any. They are
	// read from a histogram whose bins are a fourth of an octave wide, so
	// they are within 10 % of the exact value.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// Stats returns the delivery outcomes this node recorded in the last
// [StatsWindow] seconds. It takes a lock briefly and copies; call it as
// often as a chart refreshes.
func (rt *Runtime) Stats() Stats { return rt.stats.snapshot() }

// withStats makes the runtime's own observer of delivery outcomes, which
// feeds [Runtime.Stats], and puts it first among o's observers.
func withStats(o *options) *stats {
	s := newStats(time.Now)
	o.observers = append([]func(context.Context, hook.Observation){s.observe}, o.observers...)
	return s
}

// Latency histogram bins: bin i holds latencies below
// histBase·2^((i+1)/histPerOctave); the first bin holds everything below
// 100µs·2^(1/4), the last everything from about 100s up.
const (
	histBase      = 100 * time.Microsecond
	histPerOctave = 4
	histBins      = 20 * histPerOctave // 100µs to 100µs·2^20 ≈ 105s
)

// stats counts outcomes in a ring of per-second buckets. Observing costs a
// lock and a few increments, on the worker's goroutine; the snapshot does
// the arithmetic.
type stats struct {
	now  func() time.Time
	mu   sync.Mutex
	ring [StatsWindow]statsSlot
}

// statsSlot is one second of the ring; sec tells which one it holds now.
type statsSlot struct {
	sec                     int64 // unix second; a stale slot is reset on use
	delivered, failed, dead int
	hist                    [histBins]uint32
}

func newStats(now func() time.Time) *stats { return &stats{now: now} }

// observe is the runtime's own observer (see [WithObserver]).
func (s *stats) observe(_ context.Context, o hook.Observation) {
	sec := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.ring[slot(sec)]
	if b.sec != sec {
		*b = statsSlot{sec: sec}
	}
	attempted := o.Latency > 0 // a decision made without an attempt has none
	switch {
	case o.State == hook.StateDelivered:
		b.delivered++
	case o.Err != nil:
		b.failed++
	}
	if o.State == hook.StateDead {
		b.dead++
	}
	if attempted {
		b.hist[histBin(o.Latency)]++
	}
}

// snapshot copies the last StatsWindow seconds out of the ring.
func (s *stats) snapshot() Stats {
	if s == nil {
		return Stats{Interval: StatsInterval}
	}
	now := s.now().Unix()
	out := Stats{Interval: StatsInterval, Buckets: make([]StatsBucket, StatsWindow)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range out.Buckets {
		sec := now - StatsWindow + 1 + int64(i)
		bk := StatsBucket{Start: time.Unix(sec, 0).UTC()}
		if b := &s.ring[slot(sec)]; b.sec == sec {
			bk.Delivered, bk.Failed, bk.Dead = b.delivered, b.failed, b.dead
			bk.P50, bk.P99 = quantile(&b.hist, 0.50), quantile(&b.hist, 0.99)
		}
		out.Buckets[i] = bk
	}
	return out
}

// slot is the ring index of a unix second (seconds before 1970 included).
func slot(sec int64) int {
	i := sec % StatsWindow
	if i < 0 {
		i += StatsWindow
	}
	return int(i)
}

// histBin is the bin of latency d.
func histBin(d time.Duration) int {
	if d < histBase {
		return 0
	}
	i := int(math.Floor(histPerOctave * math.Log2(float64(d)/float64(histBase))))
	return min(max(i, 0), histBins-1)
}

// quantile returns the q-quantile of h as the geometric middle of the bin
// that holds it, 0 for an empty histogram.
func quantile(h *[histBins]uint32, q float64) time.Duration {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n))) // 1-based rank of the quantile
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h {
		seen += uint64(c)
		if seen >= rank {
			return binMiddle(i)
		}
	}
	return binMiddle(histBins - 1)
}

// binMiddle is the geometric middle of bin i.
func binMiddle(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Exp2((float64(i)+0.5)/histPerOctave))
}

package ops

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
)

// The window of [Recorder]: StatsWindow buckets of StatsInterval.
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

// Latency histogram bins: bin i holds latencies below
// histBase·2^((i+1)/histPerOctave); the first bin holds everything below
// 100µs·2^(1/4), the last everything from about 100s up.
const (
	histBase      = 100 * time.Microsecond
	histPerOctave = 4
	histBins      = 20 * histPerOctave // 100µs to 100µs·2^20 ≈ 105s
)

// Recorder counts delivery outcomes in a ring of per-second buckets: the
// runtime's observer feeds it (Observe), the views read it (Snapshot).
// Observing costs a lock and a few increments, on the worker's goroutine;
// the snapshot does the arithmetic.
type Recorder struct {
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

// NewRecorder returns an empty recorder on the clock now (nil: time.Now).
//
//	rec := ops.NewRecorder(nil)
//	rt, err := hookrt.Open(ctx, cfg, hookrt.WithObserver(rec.Observe))
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now}
}

// Observe records one outcome; it is a runtime observer.
func (s *Recorder) Observe(_ context.Context, o hook.Observation) {
	sec := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.ring[slot(sec)]
	if b.sec != sec {
		*b = statsSlot{sec: sec}
	}
	switch {
	case o.State == hook.StateDelivered:
		b.delivered++
	case o.Err != nil:
		b.failed++
	}
	if o.State == hook.StateDead {
		b.dead++
	}
	if o.Latency > 0 { // a decision made without an attempt has none
		b.hist[histBin(o.Latency)]++
	}
}

// Snapshot copies the last StatsWindow seconds out of the ring. It takes
// a lock briefly; call it as often as a chart refreshes. A nil recorder
// has an empty window.
func (s *Recorder) Snapshot() Stats {
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
	rank := max(uint64(math.Ceil(q*float64(n))), 1) // 1-based rank of the quantile
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

// Summary is the chart in words, for a page without script and for the
// chart's caption.
type Summary struct {
	Seconds                 int
	Delivered, Failed, Dead int
	P99                     time.Duration // the largest p99 of the window
	Rate                    string        // delivered per second over the last minute
}

// Summarize adds up st.
func Summarize(st Stats) Summary {
	out := Summary{Seconds: len(st.Buckets)}
	lastMinute := 0
	for i, b := range st.Buckets {
		out.Delivered += b.Delivered
		out.Failed += b.Failed
		out.Dead += b.Dead
		out.P99 = max(out.P99, b.P99)
		if i >= len(st.Buckets)-60 {
			lastMinute += b.Delivered
		}
	}
	out.Rate = fmt.Sprintf("%.1f", float64(lastMinute)/60)
	return out
}

// ChartData is the live chart's data: one column per series, one entry
// per interval, oldest first (what the pages' script draws).
type ChartData struct {
	IntervalMS int64     `json:"interval_ms"`
	End        int64     `json:"end_ms"` // the start of the last interval, unix ms
	Delivered  []int     `json:"delivered"`
	Failed     []int     `json:"failed"`
	Dead       []int     `json:"dead"`
	P50MS      []float64 `json:"p50_ms"`
	P99MS      []float64 `json:"p99_ms"`
}

// Chart turns st into the chart's columns.
func Chart(st Stats) ChartData {
	out := ChartData{IntervalMS: st.Interval.Milliseconds(), Delivered: []int{}, Failed: []int{}, Dead: []int{},
		P50MS: []float64{}, P99MS: []float64{}}
	for _, b := range st.Buckets {
		out.Delivered = append(out.Delivered, b.Delivered)
		out.Failed = append(out.Failed, b.Failed)
		out.Dead = append(out.Dead, b.Dead)
		out.P50MS = append(out.P50MS, ms(b.P50))
		out.P99MS = append(out.P99MS, ms(b.P99))
	}
	if n := len(st.Buckets); n > 0 {
		out.End = st.Buckets[n-1].Start.UnixMilli()
	}
	return out
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

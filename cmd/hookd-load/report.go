package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is a run's outcome: printed as a table, or as one JSON object
// with -json. Rates are per second; times in seconds unless named _ms.
type report struct {
	Mode     string   `json:"mode"`
	Event    string   `json:"event"`
	Hookd    string   `json:"hookd"`
	Receiver string   `json:"receiver"`
	Paths    []string `json:"paths,omitempty"`
	Run      string   `json:"run"`
	Senders  int      `json:"senders"`
	// Rate is the requested events/s; 0 is saturated.
	Rate        float64  `json:"rate"`
	Batch       int      `json:"batch"`
	Format      string   `json:"format"`
	Alg         string   `json:"alg,omitempty"` // the alg tokens arrived with
	JWKSAlgs    []string `json:"jwks_algs,omitempty"`
	JWKSFetches int64    `json:"jwks_fetches,omitempty"`
	Interrupted bool     `json:"interrupted,omitempty"`
	// Args are the flags the run was given, to say what produced it.
	Args []string `json:"args,omitempty"`

	Sent         int     `json:"sent"`
	Accepted     int     `json:"accepted"`
	SendSeconds  float64 `json:"send_s"` // first request to last answer
	AcceptedPerS float64 `json:"accepted_per_s"`
	MaxLagMs     float64 `json:"max_lag_ms,omitempty"` // fixed rate: how late a request started, at worst

	Errors errorCounts `json:"errors"`

	Targets          int      `json:"targets"`  // deliveries per event
	Expected         int      `json:"expected"` // accepted × targets
	Delivered        int      `json:"delivered"`
	Lost             int      `json:"lost"`
	LostIDs          []string `json:"lost_ids,omitempty"`
	Duplicates       int      `json:"duplicates"`
	Unmatched        int      `json:"unmatched"` // arrived, but their 202 never came back
	Stale            int      `json:"stale"`     // arrivals of earlier runs' events
	Early            int      `json:"early"`     // arrived before their 202 was read
	DeliveredSeconds float64  `json:"delivered_s"`
	DeliveredPerS    float64  `json:"delivered_per_s"`
	Steady           steadyJS `json:"steady"`
	LatencyMs        latency  `json:"latency_ms"`      // 202 read → arrival
	PostLatencyMs    latency  `json:"post_latency_ms"` // POST started → arrival
	PerPath          []pathJS `json:"per_path,omitempty"`

	CPU cpuJS `json:"cpu"`
	// Memory is hookd's (-pid), from /proc/<pid>/status.
	Memory *memJS `json:"memory,omitempty"`
	// Postgres is what PostgreSQL did over the run (-pg-dsn).
	Postgres *pgJS `json:"postgres,omitempty"`

	RawSign        *signResult `json:"raw_sign,omitempty"`
	DeliveredVsRaw float64     `json:"delivered_vs_raw,omitempty"`
	SteadyVsRaw    float64     `json:"steady_vs_raw,omitempty"`
	// HookdMsBeyondSign is hookd's CPU per delivery less the CPU of one raw
	// signature (-raw-sign): what a delivery costs besides signing.
	HookdMsBeyondSign float64 `json:"hookd_ms_beyond_sign,omitempty"`

	Warnings []string `json:"warnings,omitempty"`
}

type errorCounts struct {
	Total      int            `json:"total"`
	Non202     map[string]int `json:"non_202,omitempty"` // events by status
	Transport  int            `json:"transport"`         // events whose POST got no answer
	BadAnswer  int            `json:"bad_answer"`        // 202s that could not be matched
	BadToken   int64          `json:"bad_token"`         // tokens that failed verification
	BadRequest int64          `json:"bad_request"`       // deliveries the receiver could not read
	BadPath    int64          `json:"bad_path"`          // deliveries to a path not in -paths
	Samples    map[string]int `json:"samples,omitempty"`
}

type steadyJS struct {
	PerS    float64 `json:"per_s"`
	Count   int     `json:"count"`
	T10     float64 `json:"t10_s"`
	T90     float64 `json:"t90_s"`
	WindowS float64 `json:"window_s"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	Min float64 `json:"min"`
}

type pathJS struct {
	Path      string  `json:"path"`
	Delivered int     `json:"delivered"`
	Lost      int     `json:"lost"`
	LatencyMs latency `json:"latency_ms"`
}

type cpuJS struct {
	WindowS float64 `json:"window_s"` // first request to the end of the drain
	Hookd   *procJS `json:"hookd,omitempty"`
	// Tool is this process: the senders and the receiver together.
	Tool *procJS `json:"tool,omitempty"`
	// Others are the -cpu-comm processes, by name.
	Others []commJS `json:"others,omitempty"`
}

type commJS struct {
	Comm  string `json:"comm"`
	Procs int    `json:"procs"` // processes of that name at the end
	procJS
}

type procJS struct {
	Pid     int     `json:"pid,omitempty"`
	Seconds float64 `json:"s"`
	Cores   float64 `json:"cores"`
	// MsPerDelivery is CPU milliseconds per delivery that arrived.
	MsPerDelivery float64 `json:"ms_per_delivery"`
	// MsPerAck (-mode events) is the same figure named for what it is
	// there: every delivery is one strict script's 200 <nomessage/>, so
	// CPU ÷ acknowledgements = CPU ÷ (events × paths).
	MsPerAck float64 `json:"ms_per_ack,omitempty"`
	// MsPerEvent (more than one path) is CPU per event acknowledged at
	// every path: MsPerDelivery × paths.
	MsPerEvent float64 `json:"ms_per_event,omitempty"`
}

// memJS is hookd's memory in kB (KiB): RSS when the run started, its peak
// (VmHWM: since hookd started, which includes the run), and at the end of
// the drain with what it is made of. Series is the RSS every -rss-every.
type memJS struct {
	StartKB int64      `json:"rss_start_kb"`
	PeakKB  int64      `json:"rss_peak_kb"`
	EndKB   int64      `json:"rss_end_kb"`
	AnonKB  int64      `json:"rss_anon_kb"`
	FileKB  int64      `json:"rss_file_kb"`
	ShmemKB int64      `json:"rss_shmem_kb"`
	Series  []rssPoint `json:"rss_series,omitempty"`
}

func buildMemory(m0, m1 memSample, series []rssPoint) *memJS {
	return &memJS{StartKB: m0.RSS, PeakKB: max(m1.HWM, m1.RSS), EndKB: m1.RSS, AnonKB: m1.Anon, FileKB: m1.File, ShmemKB: m1.Shmem, Series: series}
}

// mib is kB as MiB, for the table.
func mib(kb int64) float64 { return float64(kb) / 1024 }

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}

func latencyOf(sorted []time.Duration) latency {
	if len(sorted) == 0 {
		return latency{}
	}
	return latency{
		P50: ms(percentile(sorted, 50)),
		P90: ms(percentile(sorted, 90)),
		P99: ms(percentile(sorted, 99)),
		Max: ms(sorted[len(sorted)-1]),
		Min: ms(sorted[0]),
	}
}

// buildReport puts a run together. start and end are the first request
// and the end of the drain, on the tracker's clock.
func buildReport(o options, run, addr string, t tally, st *sendStats, rc *receiver, start, end time.Duration, cpu0, cpu1 cpuSample, raw *signResult) *report {
	r := &report{
		Mode: o.mode, Event: o.event, Hookd: o.hookd, Receiver: addr, Paths: o.paths, Run: run,
		Args:    o.args,
		Senders: o.senders, Rate: o.rate, Batch: o.batch, Format: o.format,
		Sent: st.sent, Accepted: st.accepted,
		Targets: max(len(o.paths), 1), Delivered: t.delivered, Lost: t.lost, LostIDs: t.lostIDs,
		Duplicates: t.dups, Unmatched: t.unmatched, Stale: t.stale, Early: t.early,
		LatencyMs: latencyOf(t.latencies), PostLatencyMs: latencyOf(t.postLat),
	}
	if p := rc.alg.Load(); p != nil {
		r.Alg = *p
	}
	if o.batch > 1 {
		r.Format = "json array"
	}
	r.Expected = t.accepted * r.Targets
	if st.requests > 0 {
		send := st.lastAnswer - st.firstSend
		r.SendSeconds = round(send.Seconds(), 3)
		r.AcceptedPerS = round(rate(st.accepted, send), 1)
	}
	if o.rate > 0 {
		r.MaxLagMs = ms(st.maxLag)
	}
	r.Errors = errorCounts{
		Transport: st.transport, BadAnswer: st.badAnswer,
		BadToken: rc.badToken.Load(), BadRequest: rc.badRequest.Load(), BadPath: rc.badPath.Load(),
		Samples: maps.Clone(st.samples),
	}
	r.Errors.Total = st.transport + st.badAnswer + int(r.Errors.BadToken+r.Errors.BadRequest+r.Errors.BadPath)
	for code, n := range st.non202 {
		if r.Errors.Non202 == nil {
			r.Errors.Non202 = map[string]int{}
		}
		r.Errors.Non202[strconv.Itoa(code)] = n
		r.Errors.Total += n
	}
	for k, v := range rc.errorSamples() {
		if r.Errors.Samples == nil {
			r.Errors.Samples = map[string]int{}
		}
		r.Errors.Samples["receiver: "+k] = v
	}
	if n := len(t.arrivals); n > 0 {
		d := t.arrivals[n-1] - start
		r.DeliveredSeconds = round(d.Seconds(), 3)
		r.DeliveredPerS = round(rate(t.delivered, d), 1)
	}
	sr := steadyRate(t.arrivals)
	r.Steady = steadyJS{PerS: round(sr.rate, 1), Count: sr.count, WindowS: round(sr.window.Seconds(), 3)}
	if sr.count > 0 {
		r.Steady.T10, r.Steady.T90 = round((sr.t10-start).Seconds(), 3), round((sr.t90-start).Seconds(), 3)
	}
	if len(t.perPath) > 1 {
		for _, p := range t.perPath {
			r.PerPath = append(r.PerPath, pathJS{Path: p.path, Delivered: p.delivered, Lost: p.lost, LatencyMs: latencyOf(p.latencies)})
		}
	}
	window := end - start
	r.CPU.WindowS = round(window.Seconds(), 3)
	proc := func(d time.Duration, pid int) *procJS {
		p := &procJS{Pid: pid, Seconds: round(d.Seconds(), 2), Cores: round(d.Seconds()/window.Seconds(), 2)}
		if t.delivered > 0 {
			p.MsPerDelivery = round(d.Seconds()*1000/float64(t.delivered), 3)
			if o.mode == modeEvents {
				p.MsPerAck = p.MsPerDelivery
			}
			if r.Targets > 1 {
				p.MsPerEvent = round(d.Seconds()*1000*float64(r.Targets)/float64(t.delivered), 3)
			}
		}
		return p
	}
	if cpu0.hookdErr == nil && cpu1.hookdErr == nil && window > 0 {
		r.CPU.Hookd = proc(cpu1.hookd-cpu0.hookd, o.pid)
	}
	if cpu0.selfErr == nil && cpu1.selfErr == nil && window > 0 {
		r.CPU.Tool = proc(cpu1.self-cpu0.self, 0)
	}
	for i, c := range o.cpuComm {
		if i >= len(cpu0.comm) || i >= len(cpu1.comm) || cpu0.comm[i].err != nil || cpu1.comm[i].err != nil || window <= 0 {
			continue
		}
		r.CPU.Others = append(r.CPU.Others, commJS{Comm: c, Procs: cpu1.comm[i].procs, procJS: *proc(cpu1.comm[i].cpu-cpu0.comm[i].cpu, 0)})
	}
	if raw != nil {
		r.RawSign = raw
		if raw.PerSecond > 0 {
			r.DeliveredVsRaw = round(r.DeliveredPerS/raw.PerSecond, 3)
			r.SteadyVsRaw = round(r.Steady.PerS/raw.PerSecond, 3)
		}
		if r.CPU.Hookd != nil && raw.CPUMsPerSign > 0 {
			r.HookdMsBeyondSign = round(r.CPU.Hookd.MsPerDelivery-raw.CPUMsPerSign, 3)
		}
	}
	return r
}

// print writes the human table.
func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }

	how := "saturated"
	if r.Rate > 0 {
		how = fmt.Sprintf("fixed %g events/s", r.Rate)
	}
	batch := "one event per request (" + r.Format + ")"
	if r.Batch > 1 {
		batch = fmt.Sprintf("batches of %d (JSON array)", r.Batch)
	}
	line("run", "%s, mode %s, event %s, %d senders, %s, %s", r.Run, r.Mode, r.Event, r.Senders, how, batch)
	recv := r.Receiver
	if len(r.Paths) > 0 {
		recv += " paths " + strings.Join(r.Paths, ",")
	}
	if r.Alg != "" {
		recv += ", tokens " + r.Alg
	}
	line("hookd / receiver", "%s / %s", r.Hookd, recv)
	line("sent", "%d events in %.3f s", r.Sent, r.SendSeconds)
	line("accepted (202)", "%d = %.1f /s", r.Accepted, r.AcceptedPerS)
	if r.Rate > 0 {
		line("scheduling lag", "%.1f ms at worst (a request waits when every sender is busy)", r.MaxLagMs)
	}
	line("delivered", "%d of %d (%d per event)", r.Delivered, r.Expected, r.Targets)
	line("delivered/s overall", "%.1f /s (first request to last arrival, %.3f s)", r.DeliveredPerS, r.DeliveredSeconds)
	line("delivered/s steady", "%.1f /s (middle 80 %% of arrivals: %d in %.3f s, from %.3f s to %.3f s)",
		r.Steady.PerS, r.Steady.Count, r.Steady.WindowS, r.Steady.T10, r.Steady.T90)
	l := r.LatencyMs
	line("accept→arrival", "p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms  (min %.1f ms)", l.P50, l.P90, l.P99, l.Max, l.Min)
	l = r.PostLatencyMs
	line("POST→arrival", "p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms  (ingest included)", l.P50, l.P90, l.P99, l.Max)
	for _, p := range r.PerPath {
		l := p.LatencyMs
		line("  "+p.Path, "%d delivered, %d lost; p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms", p.Delivered, p.Lost, l.P50, l.P90, l.P99, l.Max)
	}
	lost := strconv.Itoa(r.Lost)
	if len(r.LostIDs) > 0 {
		lost += " (e.g. " + strings.Join(r.LostIDs, ", ") + ")"
	}
	line("lost", "%s", lost)
	line("duplicates", "%d", r.Duplicates)
	line("other arrivals", "%d before their 202 was read (counted), %d without a 202, %d of earlier runs", r.Early, r.Unmatched, r.Stale)
	e := r.Errors
	var non202 []string
	for _, code := range slices.Sorted(maps.Keys(e.Non202)) {
		non202 = append(non202, fmt.Sprintf("%s×%d", code, e.Non202[code]))
	}
	line("errors", "%d: non-202 [%s], no answer %d, bad 202 %d, bad token %d, bad delivery %d, wrong path %d",
		e.Total, strings.Join(non202, " "), e.Transport, e.BadAnswer, e.BadToken, e.BadRequest, e.BadPath)
	for _, k := range slices.Sorted(maps.Keys(e.Samples)) {
		line("", "%d× %s", e.Samples[k], k)
	}
	if h := r.CPU.Hookd; h != nil {
		line("hookd CPU", "%.2f s = %.2f cores over %.3f s (pid %d), %.3f ms %s", h.Seconds, h.Cores, r.CPU.WindowS, h.Pid, h.MsPerDelivery, r.perWhat(h))
	} else {
		line("hookd CPU", "not measured (give -pid)")
	}
	if t := r.CPU.Tool; t != nil {
		line("hookd-load CPU", "%.2f s = %.2f cores over %.3f s, senders and receiver in one process", t.Seconds, t.Cores, r.CPU.WindowS)
	}
	for _, c := range r.CPU.Others {
		line(c.Comm+" CPU", "%.2f s = %.2f cores over %.3f s (%d processes), %.3f ms %s", c.Seconds, c.Cores, r.CPU.WindowS, c.Procs, c.MsPerDelivery, r.perWhat(&c.procJS))
	}
	if m := r.Memory; m != nil {
		line("hookd RSS", "%.1f MiB at the start, %.1f MiB at the end, peak %.1f MiB (VmHWM, since hookd started)", mib(m.StartKB), mib(m.EndKB), mib(m.PeakKB))
		line("  at the end", "anonymous %.1f MiB, file %.1f MiB, shared %.1f MiB", mib(m.AnonKB), mib(m.FileKB), mib(m.ShmemKB))
		if n := len(m.Series); n > 2 {
			var pts []string
			step := max(1, n/8)
			for i := 0; i < n; i += step {
				pts = append(pts, fmt.Sprintf("%.0fs %.1f", m.Series[i].T, mib(m.Series[i].KB)))
			}
			line("  RSS over the run", "%s MiB", strings.Join(pts, ", "))
		}
	}
	if p := r.Postgres; p != nil {
		line("PostgreSQL WAL", "%d bytes = %.1f bytes per delivery (the whole cluster's)", p.WALBytes, p.WALBytesPerDelivery)
		line("PostgreSQL commits", "%d in database %s (%d rollbacks), read %.1f s after the drain; less hookd's idle %.1f /s meanwhile: %.3f per delivery",
			p.Commits, p.Database, p.Rollbacks, p.CountersSettleS, p.IdleCommitsPerS, p.CommitsPerDelivery)
		line("PostgreSQL write transactions", "%d = %.3f per delivery (transaction ids taken, the whole cluster's)", p.WriteXacts, p.WriteXactsPerDeliver)
		if p.IdleS > 0 {
			line("hookd idle on PostgreSQL", "%.1f commits/s, %.0f WAL bytes/s (watched %.1f s before the load)", p.IdleCommitsPerS, p.IdleWALBytesPerS, p.IdleS)
		}
	}
	if s := r.RawSign; s != nil {
		line("raw signing", "%.0f /s %s on %d goroutines (%.2f s, before the load), %.3f ms CPU per signature", s.PerSecond, s.Alg, s.Goroutines, s.Seconds, s.CPUMsPerSign)
		line("delivered / raw", "%.3f overall, %.3f steady", r.DeliveredVsRaw, r.SteadyVsRaw)
		if r.HookdMsBeyondSign != 0 {
			line("hookd beyond signing", "%.3f ms CPU per delivery (hookd's per delivery − one raw signature's)", r.HookdMsBeyondSign)
		}
	}
	for _, w := range r.Warnings {
		line("warning", "%s", w)
	}
	_ = tw.Flush()
}

// perWhat names what a CPU figure is divided by: per delivery, and in
// events mode per ack (and per event when there are several paths).
func (r *report) perWhat(p *procJS) string {
	switch {
	case p.MsPerAck > 0 && p.MsPerEvent > 0:
		return fmt.Sprintf("per ack (one script's 200 <nomessage/>; every delivery is one), %.3f ms per event (%d paths)", p.MsPerEvent, r.Targets)
	case p.MsPerAck > 0:
		return "per ack (one script's 200 <nomessage/>; every delivery is one)"
	case p.MsPerEvent > 0:
		return fmt.Sprintf("per delivery, %.3f ms per event (%d paths)", p.MsPerEvent, r.Targets)
	}
	return "per delivery"
}

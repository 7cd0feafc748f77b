package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The summary of bench/scripts/system-runs.sh: every report it wrote
// (DIR/<row>-<base|head>-<round>.json, hookd-load -json) becomes one line
// per figure of the table with the median over the rounds of base
// and of head, head ÷ base, the target, and the command that produced the
// row (DIR/<row>.cmd, else the report's flags). The rows and their targets
// live here, once, so the script and docs/benchmarks.md say the same.

// sumRun is the reports of one round of one side, by row.
type sumRun map[string]*report

// metric is one line of the summary.
type metric struct {
	row    string // the reports it reads (their <row>)
	what   string
	target string
	format string // of the medians
	// value is the figure of report r; same gives the report of another
	// row of the same round and side (nil if there is none).
	value func(r *report, same func(row string) *report) (float64, bool)
}

func hookdMs(r *report, _ func(string) *report) (float64, bool) {
	if r.CPU.Hookd == nil {
		return 0, false
	}
	return r.CPU.Hookd.MsPerDelivery, true
}

func commMs(comm string) func(*report, func(string) *report) (float64, bool) {
	return func(r *report, _ func(string) *report) (float64, bool) {
		for _, c := range r.CPU.Others {
			if c.Comm == comm {
				return c.MsPerDelivery, true
			}
		}
		return 0, false
	}
}

func steadyRateOf(r *report, _ func(string) *report) (float64, bool) { return r.Steady.PerS, true }

func pgFigure(f func(p *pgJS) float64) func(*report, func(string) *report) (float64, bool) {
	return func(r *report, _ func(string) *report) (float64, bool) {
		if r.Postgres == nil {
			return 0, false
		}
		return f(r.Postgres), true
	}
}

func memFigure(f func(m *memJS) int64) func(*report, func(string) *report) (float64, bool) {
	return func(r *report, _ func(string) *report) (float64, bool) {
		if r.Memory == nil {
			return 0, false
		}
		return mib(f(r.Memory)), true
	}
}

func latencyFigure(f func(r *report) float64) func(*report, func(string) *report) (float64, bool) {
	return func(r *report, _ func(string) *report) (float64, bool) { return f(r), r.Delivered > 0 }
}

// metrics are the summary's lines, in the order of the table.
var metrics = []metric{
	{row: "sqlite", what: "EdDSA JWT delivery, SQLite: hookd CPU ms per delivery", target: "≤ 0.20", format: "%.3f", value: hookdMs},
	{row: "sqlite", what: "EdDSA JWT delivery, SQLite: delivered/s steady", target: "—", format: "%.0f", value: steadyRateOf},
	{row: "sqlite", what: "EdDSA JWT delivery, SQLite: hookd RSS at the end, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.EndKB })},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: hookd CPU ms per delivery", target: "≤ 0.25", format: "%.3f", value: hookdMs},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: server CPU ms per delivery (postgres processes)", target: "≤ 0.25", format: "%.3f", value: commMs("postgres")},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: WAL bytes per delivery", target: "—", format: "%.0f", value: pgFigure(func(p *pgJS) float64 { return p.WALBytesPerDelivery })},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: commits per delivery (xact_commit, less hookd's idle ones)", target: "—", format: "%.3f", value: pgFigure(func(p *pgJS) float64 { return p.CommitsPerDelivery })},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: write transactions per delivery", target: "—", format: "%.3f", value: pgFigure(func(p *pgJS) float64 { return p.WriteXactsPerDeliver })},
	{row: "pg", what: "hookd idle on PostgreSQL: commits/s", target: "—", format: "%.1f", value: func(r *report, _ func(string) *report) (float64, bool) {
		if r.Postgres == nil || r.Postgres.IdleS == 0 {
			return 0, false
		}
		return r.Postgres.IdleCommitsPerS, true
	}},
	{row: "pg", what: "EdDSA JWT delivery, PostgreSQL: delivered/s steady", target: "—", format: "%.0f", value: steadyRateOf},
	{row: "events", what: "strict HTTP event (global + domain), SQLite: hookd CPU ms per ack", target: "≤ 0.15", format: "%.3f", value: func(r *report, _ func(string) *report) (float64, bool) {
		if r.CPU.Hookd == nil || r.CPU.Hookd.MsPerAck == 0 {
			return 0, false
		}
		return r.CPU.Hookd.MsPerAck, true
	}},
	{row: "rs256", what: "RS256 delivery, SQLite: hookd CPU ms per delivery beyond one raw signature", target: "≤ 0.20", format: "%.3f", value: func(r *report, _ func(string) *report) (float64, bool) {
		return r.HookdMsBeyondSign, r.RawSign != nil && r.RawSign.CPUMsPerSign > 0 && r.CPU.Hookd != nil
	}},
	{row: "rs256", what: "RS256 delivery, SQLite: one raw signature, CPU ms", target: "—", format: "%.3f", value: func(r *report, _ func(string) *report) (float64, bool) {
		if r.RawSign == nil || r.RawSign.CPUMsPerSign <= 0 {
			return 0, false
		}
		return r.RawSign.CPUMsPerSign, true
	}},
	{row: "burst", what: "burst of 50,000 in batches of 500, SQLite EdDSA: delivered/s steady", target: "—", format: "%.0f", value: steadyRateOf},
	{row: "burst", what: "burst ÷ unbatched saturated rate (SQLite EdDSA row, same round)", target: "≥ 0.9", format: "%.2f", value: func(r *report, same func(string) *report) (float64, bool) {
		u := same("sqlite")
		if u == nil || u.Steady.PerS <= 0 {
			return 0, false
		}
		return r.Steady.PerS / u.Steady.PerS, true
	}},
	{row: "lat-sqlite", what: "latency at 30 ev/s, SQLite: accept→arrival p50 ms", target: "no regression (0.2)", format: "%.2f", value: latencyFigure(func(r *report) float64 { return r.LatencyMs.P50 })},
	{row: "lat-sqlite", what: "latency at 30 ev/s, SQLite: accept→arrival p99 ms", target: "no regression (0.7)", format: "%.2f", value: latencyFigure(func(r *report) float64 { return r.LatencyMs.P99 })},
	{row: "lat-pg", what: "latency at 30 ev/s, PostgreSQL: accept→arrival p50 ms", target: "no regression", format: "%.2f", value: latencyFigure(func(r *report) float64 { return r.LatencyMs.P50 })},
	{row: "lat-pg", what: "latency at 30 ev/s, PostgreSQL: accept→arrival p99 ms", target: "no regression", format: "%.2f", value: latencyFigure(func(r *report) float64 { return r.LatencyMs.P99 })},
	{row: "lat-pg", what: "latency at 30 ev/s, PostgreSQL: POST→arrival p99 ms", target: "no regression", format: "%.2f", value: latencyFigure(func(r *report) float64 { return r.PostLatencyMs.P99 })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min, SQLite: peak (VmHWM) MiB", target: "≤ 64", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.PeakKB })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min: at the start, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.StartKB })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min: at the end, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.EndKB })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min: anonymous at the end, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.AnonKB })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min: file-backed at the end, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.FileKB })},
	{row: "rss", what: "RSS, 200 ev/s for 10 min: shared memory at the end, MiB", target: "—", format: "%.1f", value: memFigure(func(m *memJS) int64 { return m.ShmemKB })},
}

var reportName = regexp.MustCompile(`^([a-z0-9-]+)-(base|head)-([0-9]+)\.json$`)

// summary is a directory of reports read.
type summary struct {
	runs   map[string]map[int]sumRun // side → round → row → report
	rounds map[string]int            // side → rounds seen
	cmds   map[string]string         // row → command
	failed []string                  // reports of runs that lost events or had errors
	other  []string                  // rows no metric reads
}

func readSummary(dir string) (*summary, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	s := &summary{runs: map[string]map[int]sumRun{}, rounds: map[string]int{}, cmds: map[string]string{}}
	known := map[string]bool{}
	for _, m := range metrics {
		known[m.row] = true
	}
	for _, f := range files {
		m := reportName.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			continue
		}
		row, side := m[1], m[2]
		round, _ := strconv.Atoi(m[3])
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: not a hookd-load -json report: %w", f, err)
		}
		if r.Lost > 0 || r.Errors.Total > 0 || r.Interrupted || r.Delivered < r.Expected {
			s.failed = append(s.failed, fmt.Sprintf("%s: %d of %d delivered, %d lost, %d errors%s", filepath.Base(f), r.Delivered, r.Expected, r.Lost, r.Errors.Total, map[bool]string{true: ", interrupted"}[r.Interrupted]))
		}
		if !known[row] && !slices.Contains(s.other, row) {
			s.other = append(s.other, row)
		}
		if s.runs[side] == nil {
			s.runs[side] = map[int]sumRun{}
		}
		if s.runs[side][round] == nil {
			s.runs[side][round] = sumRun{}
		}
		s.runs[side][round][row] = &r
		s.rounds[side] = max(s.rounds[side], len(s.runs[side]))
		if _, ok := s.cmds[row]; !ok {
			if c, err := os.ReadFile(filepath.Join(dir, row+".cmd")); err == nil {
				s.cmds[row] = strings.Join(strings.Fields(string(c)), " ")
			} else if len(r.Args) > 0 {
				s.cmds[row] = "hookd-load " + strings.Join(r.Args, " ")
			}
		}
	}
	if len(s.runs) == 0 {
		return nil, fmt.Errorf("%s holds no reports named <row>-<base|head>-<round>.json", dir)
	}
	return s, nil
}

// values are a metric's figures over the rounds of one side.
func (s *summary) values(m metric, side string) []float64 {
	var out []float64
	for _, run := range s.runs[side] {
		r := run[m.row]
		if r == nil {
			continue
		}
		if v, ok := m.value(r, func(row string) *report { return run[row] }); ok {
			out = append(out, v)
		}
	}
	return out
}

// rowRounds is how many rounds ran row, on the side that ran it most
// (the RSS row runs once; a figure missing from a round shows).
func (s *summary) rowRounds(row string) int {
	n := 0
	for _, rounds := range s.runs {
		k := 0
		for _, run := range rounds {
			if run[row] != nil {
				k++
			}
		}
		n = max(n, k)
	}
	return n
}

// median of vs (the mean of the middle two for an even count); false
// when there are none.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	vs = slices.Sorted(slices.Values(vs))
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// write prints the markdown table and what failed; it returns an error
// when a run lost events or had errors.
func (s *summary) write(w io.Writer) error {
	fmt.Fprintf(w, "Medians of %d rounds of base and %d of head (hookd-load -json reports; CPU is hookd's own, utime + stime).\n\n", s.rounds["base"], s.rounds["head"])
	fmt.Fprintln(w, "| what | base | head | head/base | target | command |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	lastRow := ""
	for _, m := range metrics {
		base, head := s.values(m, "base"), s.values(m, "head")
		if len(base) == 0 && len(head) == 0 {
			continue
		}
		cell := func(vs []float64, side string) string {
			v, ok := median(vs)
			if !ok {
				return "—"
			}
			c := fmt.Sprintf(m.format, v)
			if want := s.rowRounds(m.row); len(vs) != want {
				c += fmt.Sprintf(" (%d of %d)", len(vs), want)
			}
			return c
		}
		ratio := "—"
		// A ratio of latencies that can be negative (accept→arrival)
		// says nothing: only of positive figures.
		if b, ok := median(base); ok && b > 0 {
			if h, ok := median(head); ok && h > 0 {
				ratio = fmt.Sprintf("%.2f", h/b)
			}
		}
		cmd := "″"
		if m.row != lastRow {
			cmd = "—"
			if c := s.cmds[m.row]; c != "" {
				cmd = "`" + strings.ReplaceAll(c, "|", `\|`) + "`"
			}
		}
		lastRow = m.row
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", m.what, cell(base, "base"), cell(head, "head"), ratio, m.target, cmd)
	}
	if len(s.other) > 0 {
		fmt.Fprintf(w, "\nReports of rows this table does not read: %s\n", strings.Join(s.other, ", "))
	}
	if len(s.failed) > 0 {
		slices.Sort(s.failed)
		fmt.Fprintf(w, "\n**%d runs lost events or had errors** (their figures are in the medians above, but the runs are not valid):\n\n", len(s.failed))
		for _, f := range s.failed {
			fmt.Fprintf(w, "- %s\n", f)
		}
		return errors.New("runs lost events or had errors: " + strings.Join(s.failed, "; "))
	}
	return nil
}

// runSummarize is `hookd-load summarize DIR`.
func runSummarize(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: hookd-load summarize DIR  (a directory of hookd-load -json reports named <row>-<base|head>-<round>.json, as bench/scripts/system-runs.sh writes)")
		return exitUsage
	}
	s, err := readSummary(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "hookd-load summarize:", err)
		return exitFailed
	}
	if err := s.write(stdout); err != nil {
		fmt.Fprintln(stderr, "hookd-load summarize:", err)
		return exitFailed
	}
	return exitOK
}

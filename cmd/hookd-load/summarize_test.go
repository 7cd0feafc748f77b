package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeReport writes r as DIR/name, as hookd-load -json does.
func writeReport(t *testing.T, dir, name string, r *report) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeReport is a clean run with hookd's CPU per delivery ms and a
// steady rate.
func fakeReport(ms, steady float64) *report {
	return &report{
		Accepted: 100, Expected: 100, Delivered: 100, Targets: 1,
		Steady: steadyJS{PerS: steady},
		CPU:    cpuJS{Hookd: &procJS{MsPerDelivery: ms}},
		Args:   []string{"-n", "100", "-json"},
	}
}

func TestSummarizeMediansRatiosAndCommands(t *testing.T) {
	dir := t.TempDir()
	// Rounds in an order where the median is not the first or the last.
	for i, ms := range []float64{0.41, 0.39, 0.40} {
		round := i + 1
		writeReport(t, dir, fmt.Sprintf("sqlite-base-%d.json", round), fakeReport(ms, 2800))
		writeReport(t, dir, fmt.Sprintf("sqlite-head-%d.json", round), fakeReport(ms/2, 3000+100*float64(round)))
		// The burst's ratio is taken in its round, against that round's
		// unbatched rate: head rounds 0.9, 1.0, 1.1 of 3100, 3200, 3300.
		writeReport(t, dir, fmt.Sprintf("burst-base-%d.json", round), fakeReport(0.5, 1200))
		writeReport(t, dir, fmt.Sprintf("burst-head-%d.json", round), fakeReport(0.3, (0.8+0.1*float64(round))*(3000+100*float64(round))))
		ev := fakeReport(0.3, 1000)
		ev.Mode, ev.Targets, ev.CPU.Hookd.MsPerAck = modeEvents, 2, 0.3
		writeReport(t, dir, fmt.Sprintf("events-head-%d.json", round), ev)
		pg := fakeReport(0.6, 2000)
		pg.CPU.Others = []commJS{{Comm: "postgres", procJS: procJS{MsPerDelivery: 0.45}}}
		pg.Postgres = &pgJS{WALBytesPerDelivery: 1500 + float64(round), CommitsPerDelivery: 0.2}
		writeReport(t, dir, fmt.Sprintf("pg-head-%d.json", round), pg)
	}
	rss := fakeReport(1, 200)
	rss.Memory = &memJS{StartKB: 32 * 1024, PeakKB: 163 * 1024, EndKB: 160 * 1024, AnonKB: 30 * 1024, FileKB: 130 * 1024}
	writeReport(t, dir, "rss-base-1.json", rss)
	if err := os.WriteFile(filepath.Join(dir, "sqlite.cmd"), []byte("hookd serve -config cmd/hookd-load/configs/sqlite-eddsa.toml;\n  hookd-load -n 20000 -c 32 -pid $HOOKD -json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a report"), 0o644); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"summarize", dir}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Medians of 3 rounds of base and 3 of head",
		"| what | base | head | head/base | target | command |",
		"| EdDSA JWT delivery, SQLite: hookd CPU ms per delivery | 0.400 | 0.200 | 0.50 | ≤ 0.20 | `hookd serve -config cmd/hookd-load/configs/sqlite-eddsa.toml; hookd-load -n 20000 -c 32 -pid $HOOKD -json` |",
		"| EdDSA JWT delivery, SQLite: delivered/s steady | 2800 | 3200 | 1.14 | — | ″ |",
		"| burst ÷ unbatched saturated rate (SQLite EdDSA row, same round) | 0.43 | 1.00 | 2.33 | ≥ 0.9 | ″ |",
		"| strict HTTP event (global + domain), SQLite: hookd CPU ms per ack | — | 0.300 | — | ≤ 0.15 | `hookd-load -n 100 -json` |",
		"| EdDSA JWT delivery, PostgreSQL: server CPU ms per delivery (postgres processes) | — | 0.450 | — | ≤ 0.25 |",
		"| EdDSA JWT delivery, PostgreSQL: WAL bytes per delivery | — | 1502 | — | — | ″ |",
		"| RSS, 200 ev/s for 10 min, SQLite: peak (VmHWM) MiB | 163.0 | — | — | ≤ 64 |",
		"| RSS, 200 ev/s for 10 min: file-backed at the end, MiB | 130.0 | — |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks\n%s\n in:\n%s", want, got)
		}
	}
	// Rows without reports are left out; the table is one table.
	if strings.Contains(got, "RS256") || strings.Contains(got, "latency") || strings.Count(got, "\n| --- ") != 1 {
		t.Errorf("summary:\n%s", got)
	}
}

func TestSummarizeFailsOnLostEvents(t *testing.T) {
	dir := t.TempDir()
	writeReport(t, dir, "sqlite-head-1.json", fakeReport(0.2, 3000))
	lost := fakeReport(0.2, 3000)
	lost.Delivered, lost.Lost = 97, 3
	writeReport(t, dir, "sqlite-head-2.json", lost)
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"summarize", dir}, &out, &errOut)
	if code != exitFailed || !strings.Contains(out.String(), "sqlite-head-2.json: 97 of 100 delivered, 3 lost") || !strings.Contains(errOut.String(), "lost events") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}

	for _, args := range [][]string{{"summarize"}, {"summarize", "-x"}, {"summarize", "a", "b"}} {
		if code := run(t.Context(), args, io.Discard, io.Discard); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"summarize", t.TempDir()}, io.Discard, &errOut); code != exitFailed || !strings.Contains(errOut.String(), "no reports named") {
		t.Errorf("empty directory: exit %d, %s", code, errOut.String())
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "pg-base-1.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"summarize", bad}, io.Discard, &errOut); code != exitFailed || !strings.Contains(errOut.String(), "pg-base-1.json: not a hookd-load -json report") {
		t.Errorf("a broken report: exit %d, %s", code, errOut.String())
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
		ok   bool
	}{{nil, 0, false}, {[]float64{3}, 3, true}, {[]float64{5, 1, 3}, 3, true}, {[]float64{4, 1, 3, 2}, 2.5, true}} {
		if got, ok := median(c.in); got != c.want || ok != c.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

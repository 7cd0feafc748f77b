package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

const statusSample = `Name:	hookd
Umask:	0022
State:	S (sleeping)
VmPeak:	 1300484 kB
VmHWM:	  166912 kB
VmRSS:	   81920 kB
RssAnon:	   40960 kB
RssFile:	   40448 kB
RssShmem:	     512 kB
Threads:	9
`

func TestParseProcStatus(t *testing.T) {
	m, err := parseProcStatus([]byte(statusSample))
	if err != nil {
		t.Fatal(err)
	}
	if want := (memSample{RSS: 81920, HWM: 166912, Anon: 40960, File: 40448, Shmem: 512}); m != want {
		t.Errorf("parsed %+v, want %+v", m, want)
	}
	if _, err := parseProcStatus([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil || !strings.Contains(err.Error(), "VmRSS") {
		t.Errorf("a kernel thread's status: err = %v", err)
	}
	if _, err := parseProcStatus([]byte("VmHWM:\t12 MB\nVmRSS:\t1 kB\n")); err == nil || !strings.Contains(err.Error(), "VmHWM") {
		t.Errorf("a unit other than kB: err = %v", err)
	}
}

// hasProc skips a test where /proc/self/status is not there.
func hasProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
}

func TestLoadReportsHookdMemory(t *testing.T) {
	hasProc(t)
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT})
	o := baseOptions(f, modeJWT)
	o.pid = os.Getpid() // "hookd" is this process here
	o.rssEvery = time.Millisecond
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Memory
	if m == nil {
		t.Fatalf("no memory in the report: %+v", rep)
	}
	if m.StartKB <= 0 || m.EndKB <= 0 || m.PeakKB < m.EndKB || m.AnonKB <= 0 || m.FileKB <= 0 || m.AnonKB+m.FileKB+m.ShmemKB != m.EndKB {
		t.Errorf("memory = %+v: want RSS = anon + file + shmem, peak ≥ end", *m)
	}
	if len(m.Series) == 0 || m.Series[0].KB <= 0 {
		t.Errorf("RSS series = %v", m.Series)
	}
	var table bytes.Buffer
	rep.print(&table)
	for _, want := range []string{"hookd RSS", "MiB at the start", "peak", "anonymous", "file"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"rss_start_kb"`, `"rss_peak_kb"`, `"rss_end_kb"`, `"rss_anon_kb"`, `"rss_file_kb"`, `"rss_shmem_kb"`, `"rss_series"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}

	// Without -pid there is no memory to report.
	o.pid = 0
	if rep, err = load(context.Background(), o, io.Discard); err != nil || rep.Memory != nil {
		t.Errorf("without -pid: memory %+v, err %v", rep.Memory, err)
	}
}

func TestLoadEventsSaysPerAck(t *testing.T) {
	hasProc(t)
	paths := []string{"/global", "/domain/1"}
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeEvents, paths: paths})
	o := baseOptions(f, modeEvents)
	o.paths, o.pid = paths, os.Getpid()
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := rep.CPU.Hookd
	if h == nil || h.MsPerDelivery <= 0 {
		t.Fatalf("hookd CPU = %+v", h)
	}
	// Every delivery to a strict script is one ack; an event is acked at
	// both paths.
	if h.MsPerAck != h.MsPerDelivery || h.MsPerEvent < 1.9*h.MsPerDelivery || h.MsPerEvent > 2.1*h.MsPerDelivery+0.002 {
		t.Errorf("per delivery %.3f, per ack %.3f, per event %.3f", h.MsPerDelivery, h.MsPerAck, h.MsPerEvent)
	}
	var table bytes.Buffer
	rep.print(&table)
	if !strings.Contains(table.String(), "ms per ack") || !strings.Contains(table.String(), "per event (2 paths)") {
		t.Errorf("table does not say per ack and per event:\n%s", table.String())
	}
}

func TestLoadRawSignCostIsSubtracted(t *testing.T) {
	hasProc(t)
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT})
	o := baseOptions(f, modeJWT)
	o.pid = os.Getpid()
	o.rawSign = writeKey(t, t.TempDir(), "ed.pem", edKey())
	o.rawSignSeconds = 0.05
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RawSign == nil || rep.RawSign.CPUMsPerSign <= 0 || rep.CPU.Hookd == nil {
		t.Fatalf("raw sign %+v, hookd CPU %+v", rep.RawSign, rep.CPU.Hookd)
	}
	if want := round(rep.CPU.Hookd.MsPerDelivery-rep.RawSign.CPUMsPerSign, 3); rep.HookdMsBeyondSign != want {
		t.Errorf("hookd beyond signing = %.3f, want %.3f", rep.HookdMsBeyondSign, want)
	}
	var table bytes.Buffer
	rep.print(&table)
	if !strings.Contains(table.String(), "ms CPU per signature") {
		t.Errorf("table lacks the signature's CPU:\n%s", table.String())
	}
}

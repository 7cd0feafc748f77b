package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// baseOptions are a quick run against f with the receiver on port 0.
func baseOptions(f *fakeHookd, mode string) options {
	return options{
		hookd: f.URL, jwks: f.URL + "/.well-known/jwks.json",
		mode: mode, listen: "127.0.0.1:0", event: map[string]string{modeJWT: "user_create", modeEvents: "newsession"}[mode],
		n: 200, senders: 8, format: "json", drain: 10 * time.Second, timeout: 10 * time.Second,
		rawSignSeconds: 1, leeway: time.Minute,
		ready: func(addr string) { u := "http://" + addr; f.target.Store(&u) },
	}
}

func TestLoadJWTCountsLostAndDuplicates(t *testing.T) {
	f := newFakeHookd(t, &fakeHookd{
		key:  signKey(t, edKey(), ""),
		mode: modeJWT,
		lose: func(seq int) bool { return seq == 5 },
		dup:  func(seq int) bool { return seq == 7 },
	})
	o := baseOptions(f, modeJWT)
	o.n, o.drain = 300, 300*time.Millisecond // the lost event ends the drain
	o.pid = os.Getpid()                      // "hookd" is this process here
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 300 || rep.Accepted != 300 || rep.Delivered != 299 || rep.Lost != 1 || rep.Duplicates != 1 || rep.Errors.Total != 0 {
		t.Fatalf("report: sent %d accepted %d delivered %d lost %d dups %d errors %+v",
			rep.Sent, rep.Accepted, rep.Delivered, rep.Lost, rep.Duplicates, rep.Errors)
	}
	if rep.Alg != "EdDSA" || rep.AcceptedPerS <= 0 || rep.DeliveredPerS <= 0 || rep.Steady.PerS <= 0 || rep.Steady.Count == 0 {
		t.Errorf("rates: %+v", rep)
	}
	if rep.LatencyMs.Max < rep.LatencyMs.P99 || rep.LatencyMs.P99 < rep.LatencyMs.P50 {
		t.Errorf("latency = %+v", rep.LatencyMs)
	}
	if rep.CPU.Tool == nil || rep.CPU.Tool.Seconds <= 0 {
		t.Errorf("tool CPU not measured: %+v", rep.CPU)
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil && rep.CPU.Hookd == nil {
		t.Errorf("hookd CPU (pid %d) not measured", o.pid)
	}
	if len(rep.LostIDs) != 1 || len(rep.Warnings) == 0 || !strings.Contains(strings.Join(rep.Warnings, " "), "-drain") {
		t.Errorf("lost ids %v, warnings %v", rep.LostIDs, rep.Warnings)
	}
	var table bytes.Buffer
	rep.print(&table)
	for _, want := range []string{"delivered/s steady", "p99", "lost", "1 (e.g. ", "hookd-load CPU", "senders and receiver in one process"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestLoadEventsTwoPathsBatchesAndJSON(t *testing.T) {
	paths := []string{"/global", "/domain/1"}
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeEvents, paths: paths, batch: true})
	o := baseOptions(f, modeEvents)
	o.paths, o.n, o.batch = paths, 95, 10 // the last batch has 5
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 95 || rep.Targets != 2 || rep.Expected != 190 || rep.Delivered != 190 || rep.Lost != 0 || rep.Errors.Total != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.PerPath) != 2 || rep.PerPath[0].Path != "/global" || rep.PerPath[0].Delivered != 95 || rep.PerPath[1].Delivered != 95 {
		t.Errorf("per path: %+v", rep.PerPath)
	}
	// The JSON form is one object with the figures docs/benchmarks.md needs.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accepted_per_s", "delivered_per_s", "steady", "latency_ms", "lost", "duplicates", "errors", "cpu"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q: %s", k, b)
		}
	}
}

func TestLoadBatchRefusedSaysNotSupported(t *testing.T) {
	// A hookd without batch ingest parses the body as one object (the fake
	// uses api.ParseEvent, the single-event parser): an array is a 400.
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT})
	o := baseOptions(f, modeJWT)
	o.batch = 20
	_, err := load(context.Background(), o, io.Discard)
	if !errors.Is(err, errBatchUnsupported) || !strings.Contains(err.Error(), "run without -batch") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadBatchTooLarge(t *testing.T) {
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT, batch: true, maxBat: 10})
	o := baseOptions(f, modeJWT)
	o.batch = 20
	_, err := load(context.Background(), o, io.Discard)
	if !errors.Is(err, errBatchTooLarge) || !strings.Contains(err.Error(), "smaller -batch") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadTokenAndFixedRate(t *testing.T) {
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT, token: "s3cret"})
	o := baseOptions(f, modeJWT)
	if _, err := load(context.Background(), o, io.Discard); !errors.Is(err, errUnauthorized) {
		t.Fatalf("no token: err = %v", err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := parseFlags([]string{"-token-file", tokenFile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.token = parsed.token
	o.rate, o.n = 2000, 40 // 20 ms of schedule
	rep, err := load(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 40 || rep.Delivered != 40 || rep.Errors.Total != 0 || rep.Rate != 2000 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestRunJSONAndExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-mode", "smtp"}, &out, &errOut); code != exitUsage {
		t.Errorf("bad -mode: exit %d", code)
	}
	if code := run(context.Background(), []string{"-hookd", "http://127.0.0.1:1", "-progress", "0"}, &out, &errOut); code != exitFailed || !strings.Contains(errOut.String(), "not reachable") {
		t.Errorf("no hookd: exit %d, %s", code, errOut.String())
	}

	// A whole run through the command line: the receiver's address is
	// picked first, as an operator picks it in hookd's config.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := newFakeHookd(t, &fakeHookd{key: signKey(t, edKey(), ""), mode: modeJWT})
	u := "http://" + addr
	f.target.Store(&u)
	out.Reset()
	code := run(context.Background(), []string{"-hookd", f.URL, "-listen", addr, "-n", "50", "-c", "4", "-json", "-progress", "0"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json output %q: %v", out.String(), err)
	}
	if rep.Delivered != 50 || rep.Lost != 0 || rep.Receiver != addr {
		t.Errorf("report: %+v", rep)
	}
}

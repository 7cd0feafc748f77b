package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// TestServeProfiles: the built daemon, run with -cpuprofile and
// -memprofile and given deliveries to make, writes both profiles when it
// stops on SIGTERM: gzipped pprof data with their sample types and
// hookd's own functions in them, and says where in its log.
func TestServeProfiles(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "the hookd binary built")
	var delivered atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)

	dir := t.TempDir()
	listen := freeAddr(t)
	cfg := writeConfig(t, dir, listen, recv.URL+"/hook", "")
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, bin, "serve", "-config", cfg, "-cpuprofile", cpu, "-memprofile", mem)
	base := "http://" + listen
	waitHealthy(t, base, d.Exited)
	const n = 20
	for i := range n {
		postEvent(t, base, "", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": fmt.Sprint("user", i)})
	}
	for deadline := time.Now().Add(startPatience); delivered.Load() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered", delivered.Load(), n)
		}
	}
	if _, err := os.Stat(cpu); err != nil {
		t.Fatalf("the CPU profile's file is not created at the start: %v", err)
	}

	if err := d.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Exited:
	case <-time.After(startPatience):
		t.Fatal("hookd did not exit after SIGTERM")
	}
	if code := d.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; output:\n%s", code, d.Out.String())
	}
	for _, want := range []string{"wrote the CPU profile", "wrote the heap profile"} {
		if !strings.Contains(d.Out.String(), want) {
			t.Errorf("the log does not say %q; output:\n%s", want, d.Out.String())
		}
	}
	// A profile is gzipped protobuf whose string table holds its sample
	// types and the names of the functions sampled.
	readProfile(t, "CPU", cpu, "samples", "cpu", "github.com/hookrt/hookd/")
	readProfile(t, "heap", mem, "inuse_space", "alloc_space", "github.com/hookrt/hookd/")
}

// readProfile reads a pprof file and fails t unless it holds every want.
func readProfile(t *testing.T, what, path string, want ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the %s profile %s is not gzipped pprof data: %v", what, path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("the %s profile %s: %v", what, path, err)
	}
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("the %s profile (%d bytes) does not name %q", what, len(b), w)
		}
	}
}

// TestServeProfileFlags: serve's help lists -cpuprofile and -memprofile,
// and a profile file that cannot be created stops serve before anything
// starts, naming the flag.
func TestServeProfileFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-h"}, &out, &errb); code != 0 {
		t.Fatalf("hookd serve -h: exit %d, stderr %q", code, errb.String())
	}
	for _, want := range []string{"-cpuprofile FILE", "-memprofile FILE", "when serve stops"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("hookd serve -h does not say %q:\n%s", want, out.String())
		}
	}

	dir := t.TempDir()
	cfg := writeConfig(t, dir, freeAddr(t), "http://127.0.0.1:1/hook", "")
	for _, flag := range []string{"-cpuprofile", "-memprofile"} {
		out.Reset()
		errb.Reset()
		bad := filepath.Join(dir, "no-such-dir", "x.pprof")
		code := run(context.Background(), []string{"serve", "-config", cfg, flag, bad}, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), flag+": open "+bad) {
			t.Errorf("hookd serve %s %s: exit %d, stderr %q; want exit 1 naming the flag and the file", flag, bad, code, errb.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
			t.Errorf("hookd serve %s %s: the store was created; want nothing started", flag, bad)
		}
	}
}

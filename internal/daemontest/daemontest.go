// Package daemontest runs `hookd serve` for tests: as a process of its
// own, or in the test binary (cmd/hookd's tests call its run), and waits
// for it to serve. cmd/hookd's tests and those of the SDKs' examples
// (plugins/pdk-as) share it.
//
//	d := daemontest.Start(t, bin, "serve", "-config", path)
//	daemontest.WaitHealthy(t, "http://"+listen, d.Exited)
//
// # Notes
//
//   - Waits are bounded by [Patience], so generously that only a daemon
//     that never comes up fails a test: under -race on a loaded 2-core
//     machine, hookd takes seconds to compile its plugins before it
//     serves.
package daemontest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Patience bounds how long a test waits for hookd to serve, or for what
// it delivers.
const Patience = 5 * time.Minute

// Daemon is a hookd process started by the test.
type Daemon struct {
	Cmd    *exec.Cmd
	Exited <-chan struct{} // closed once the process has exited
	Out    *Output         // its stdout and stderr
}

// Start starts bin with args, killed when t ends; its output is logged
// if t failed.
func Start(t testing.TB, bin string, args ...string) *Daemon {
	t.Helper()
	exited := make(chan struct{})
	d := &Daemon{Cmd: exec.Command(bin, args...), Exited: exited, Out: &Output{}}
	d.Cmd.Stdout, d.Cmd.Stderr = d.Out, d.Out
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.Cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = d.Cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("hookd output:\n%s", d.Out.String())
		}
	})
	return d
}

// WaitHealthy polls base's /healthz until hookd answers 200, and fails t
// if exited is closed first (nil: a daemon that cannot exit) or
// [Patience] runs out.
func WaitHealthy(t testing.TB, base string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("hookd exited before becoming healthy")
		default:
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
		case <-time.After(20 * time.Millisecond): // polling, bounded by the deadline
		}
	}
	t.Fatalf("hookd did not become healthy within %s", Patience)
}

// Output is a daemon's output: os/exec, or the daemon's goroutine,
// writes into it while the test reads it. The zero value is empty.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WriteKey writes a new Ed25519 key as dir/name (mode 0600, dir 0700),
// as hookd wants a key in its private directory, and returns it.
func WriteKey(t testing.TB, dir, name string) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv
}

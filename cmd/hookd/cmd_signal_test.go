package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/testsupport"
)

// TestSecondSignalExitsAtOnce: the built daemon, whose graceful shutdown
// is held up by a delivery attempt hanging at its receiver, exits with
// code 1 and says so at a second signal, instead of waiting out the
// shutdown grace (which would end with code 0).
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "the hookd binary built")
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select { // hang until the daemon is gone or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); recv.Close() })

	dir := t.TempDir()
	writeKey(t, dir)
	listen := freeAddr(t)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
[server]
listen = %q
[store]
path = "data/hookd.db"
[delivery]
timeout = "5m"
poll_interval = "20ms"
[jwt_webhook]
url = %q
private_key = "webhook.pem"
[jwt_webhook.events]
user_create = true
`, listen, recv.URL+"/hook"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfg)
	base := "http://" + listen
	waitHealthy(t, base, d.exited)
	postEvent(t, base, "", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": "ann"})
	select {
	case <-arrived:
	case <-time.After(2 * time.Minute):
		t.Fatal("the delivery attempt never reached the receiver")
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(d.out.String(), "shutting down"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("hookd did not start shutting down after SIGTERM")
		}
	}
	select {
	case <-d.exited:
		t.Fatal("hookd exited before the second signal: the attempt did not hold the shutdown up")
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(2 * time.Minute):
		t.Fatal("hookd did not exit after a second signal")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(d.out.String(), "second signal while shutting down: exiting now") {
		t.Errorf("exit code %d, want 1 and the log line; output:\n%s", code, d.out.String())
	}
}

// TestOnSignals: the first signal cancels, the second logs and exits 1;
// in serve's log format once serve set its logger.
func TestOnSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancel(context.Background())
	var logged bytes.Buffer
	exited := make(chan int, 1)
	go onSignals(sigs, cancel, &logged, func(code int) { exited <- code })
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	select {
	case code := <-exited:
		t.Fatalf("exited %d at the first signal", code)
	default:
	}
	sigs <- syscall.SIGINT
	if code := <-exited; code != 1 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(logged.String(), `level=ERROR msg="second signal while shutting down: exiting now`) || !strings.Contains(logged.String(), "signal=interrupt") {
		t.Errorf("log line: %q", logged.String())
	}
}

func TestOnSignalsServeLogger(t *testing.T) {
	var logged bytes.Buffer
	setExitLogger(slog.New(slog.NewJSONHandler(&logged, nil)))
	t.Cleanup(func() { exitLogger.Store(nil) })
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	go onSignals(sigs, func() {}, io.Discard, func(code int) { exited <- code })
	sigs <- syscall.SIGTERM
	sigs <- syscall.SIGTERM
	if code := <-exited; code != 1 || !strings.Contains(logged.String(), `"msg":"second signal while shutting down: exiting now`) {
		t.Errorf("exit %d, log %q", code, logged.String())
	}
}

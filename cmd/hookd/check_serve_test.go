package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesBusyPortsAndALockedStore (issue 16, point 4): while a
// hookd serves, `hookd check` of the same config failed to notice that
// server.listen and metrics.listen are taken and that the SQLite file is
// locked, and `hookd serve` then exited 1. Now check refuses all three
// at once, with exactly the lines serve prints; -offline skips the ports
// and says so, but still finds the locked file.
func TestCheckRefusesBusyPortsAndALockedStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	listen, metricsAddr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "config.toml")
	conf := "[server]\nlisten = \"" + listen + "\"\n[metrics]\nlisten = \"" + metricsAddr + "\"\n[store]\npath = \"data/hookd.db\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	hookd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errb := hookd("check", "-config", cfg); code != 0 {
		t.Fatalf("check before serve: exit %d\n%s%s", code, out, errb)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var log lockedBuffer
	go func() { done <- run(ctx, []string{"serve", "-config", cfg}, io.Discard, &log) }()
	t.Cleanup(func() { cancel(); <-done })
	waitHealthy(t, "http://"+listen, nil)

	// Point 7: the first line says where to go.
	first, _, _ := strings.Cut(log.String(), "\n")
	for _, want := range []string{`msg="hookd serving"`, "api=http://" + listen + "/v1/", "admin=http://" + listen + "/admin/",
		"metrics=http://" + metricsAddr + "/metrics"} {
		if !strings.Contains(first, want) {
			t.Errorf("first log line lacks %q:\n%s", want, first)
		}
	}

	code, _, checkErr := hookd("check", "-config", cfg)
	want := []string{
		cfg + ": server.listen: cannot listen on " + listen + ": the address is already in use",
		cfg + ": metrics.listen: cannot listen on " + metricsAddr + ": the address is already in use",
		cfg + ": store.path: " + filepath.Join(dir, "data", "hookd.db") + " is in use by another hookd process",
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(checkErr, "hookd: ")), "\n")
	if code != 1 || len(lines) != len(want) {
		t.Fatalf("check while serving: exit %d, %d lines, want 1 and %d:\n%s", code, len(lines), len(want), checkErr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("check line %d:\n got %s\nwant %s…", i+1, lines[i], w)
		}
	}
	code, _, serveErr := hookd("serve", "-config", cfg)
	if code != 1 || serveErr != checkErr {
		t.Errorf("a second serve: exit %d, said\n%s\nwant exit 1 and what check said:\n%s", code, serveErr, checkErr)
	}

	code, out, errb := hookd("check", "-offline", "-config", cfg)
	if code != 1 || !strings.Contains(out, "skipped (-offline): binding server.listen ("+listen+"), metrics.listen ("+metricsAddr+")") ||
		strings.Contains(errb, "cannot listen") || !strings.Contains(errb, "is in use by another hookd process") {
		t.Errorf("check -offline while serving: exit %d\n%s%s", code, out, errb)
	}
}

// TestCheckAndServeSayTheSame (issue 16, point 4): a token file that is
// missing is one line, naming the config file, the key and the file, the
// same from check and from serve; a key file and a plugin that are
// missing are reported by check beside it, not one at a time.
func TestCheckAndServeSayTheSame(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	conf := "[server]\nlisten = \"" + freeAddr(t) + "\"\ntoken_file = \"token\"\n" +
		"[jwt_webhook]\nurl = \"http://127.0.0.1:1/\"\nprivate_key = \"webhook.pem\"\n[jwt_webhook.events]\nuser_create = true\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, checkErr, serveErr bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", cfg}, &out, &checkErr); code != 1 {
		t.Fatalf("check: exit %d\n%s", code, checkErr.String())
	}
	tokenLine := "hookd: " + cfg + ": server.token_file: " + filepath.Join(dir, "token") + " does not exist\n"
	if !strings.HasPrefix(checkErr.String(), tokenLine) {
		t.Errorf("check:\n%s\nwant it to start with\n%s", checkErr.String(), tokenLine)
	}
	if !strings.Contains(checkErr.String(), "[jwt_webhook]: private_key:") {
		t.Errorf("check does not report the missing key file beside the token file:\n%s", checkErr.String())
	}
	if code := run(context.Background(), []string{"serve", "-config", cfg}, &out, &serveErr); code != 1 || serveErr.String() != tokenLine {
		t.Errorf("serve: exit %d\n%s\nwant exit 1 and\n%s", code, serveErr.String(), tokenLine)
	}
	for _, leak := range []string{"runtime:", "store:"} {
		if strings.Contains(checkErr.String()+serveErr.String(), leak) {
			t.Errorf("a message says %q:\n%s%s", leak, checkErr.String(), serveErr.String())
		}
	}
}

// TestCheckGoesOnAfterConfigProblems (issue 16, point 4): a config with
// an invalid value still has its token file and its ports checked, where
// the keys that name them are valid: every problem of every phase that
// can be reached, at once.
func TestCheckGoesOnAfterConfigProblems(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := filepath.Join(dir, "config.toml")
	conf := "[server]\nlisten = \"" + busy.Addr().String() + "\"\ntoken_file = \"token\"\n[delivery]\njitter = 2\n[metrics]\nlisten = \"nonsense\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "-config", cfg}, &out, &errb); code != 1 {
		t.Fatalf("check: exit %d\n%s", code, errb.String())
	}
	want := "hookd: " + cfg + ": delivery.jitter: must be at least 0 and less than 1, got 2\n" +
		cfg + `: metrics.listen: must be host:port with a numeric port, got "nonsense"` + "\n" +
		cfg + ": server.token_file: " + filepath.Join(dir, "token") + " does not exist\n"
	if got := errb.String(); got != want {
		t.Errorf("check said\n%s\nwant\n%s", got, want)
	}
	// metrics.listen is wrong, so the listeners are not bound: the busy
	// server.listen is reported once the config is fixed.
	conf = strings.Replace(conf, "listen = \"nonsense\"", "listen = \"\"", 1)
	os.WriteFile(cfg, []byte(conf), 0o600)
	errb.Reset()
	run(context.Background(), []string{"check", "-config", cfg}, &out, &errb)
	if !strings.Contains(errb.String(), cfg+": server.listen: cannot listen on "+busy.Addr().String()+": the address is already in use") ||
		!strings.Contains(errb.String(), "delivery.jitter") {
		t.Errorf("check said\n%s\nwant the jitter and the busy port", errb.String())
	}
}

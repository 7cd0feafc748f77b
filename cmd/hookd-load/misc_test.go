package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

func TestEventsAreRealisticAndAccepted(t *testing.T) {
	for kind, gen := range eventKinds {
		fs := gen("a1b2c3d4", 12345)
		// hookd's own parser takes both encodings.
		for ctype, body := range map[string][]byte{
			"application/json":                  appendJSONObject(nil, fs),
			"application/x-www-form-urlencoded": appendForm(nil, fs),
		} {
			if _, err := api.ParseEvent(ctype, body); err != nil {
				t.Errorf("%s as %s: hookd refuses it: %v\n%s", kind, ctype, err, body)
			}
		}
		fields := map[string]string{}
		for _, f := range fs {
			fields[f.name] = f.value
		}
		ev, err := hook.NewEvent(fields, time.Now(), "load")
		if err != nil {
			t.Fatal(err)
		}
		// About 300 bytes as hookd sends it to an events script.
		n := len(hook.AppendForm(nil, ev.Fields, ""))
		t.Logf("%s: %d bytes form-encoded as delivered", kind, n)
		if n < 250 || n > 400 {
			t.Errorf("%s is %d bytes form-encoded; want about 300", kind, n)
		}
		if fields[runField] != "a1b2c3d4" || fields[seqField] != "12345" {
			t.Errorf("%s: run and sequence fields missing: %v", kind, fields)
		}
	}
	if got := string(appendJSONString(nil, "a\"b\\c\x01é")); got != `"a\"b\\c\u0001é"` {
		t.Errorf("appendJSONString = %s", got)
	}
}

func TestMeasureSignAndLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := writeKey(t, dir, "ed.pem", edKey())
	key, err := loadSignKey(path, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := measureSign(context.Background(), key, 2, 20*time.Millisecond, eventKinds["user_create"])
	if err != nil {
		t.Fatal(err)
	}
	if r.Alg != "EdDSA" || r.Signs == 0 || r.PerSecond <= 0 || r.Goroutines != 2 {
		t.Errorf("result = %+v", r)
	}
	// hookd's rules: a key others may read is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if _, err := loadSignKey(path, ""); err == nil {
			t.Error("a world-readable key was loaded")
		}
	}
	// The subcommand.
	rsaPath := writeKey(t, dir, "rsa.pem", rsaKey())
	var out strings.Builder
	if code := run(context.Background(), []string{"sign", "-key", rsaPath, "-alg", "PS256", "-seconds", "0.05", "-goroutines", "1"}, &out, io.Discard); code != exitOK || !strings.Contains(out.String(), "PS256") {
		t.Errorf("sign: exit %d, %q", code, out.String())
	}
	if code := run(context.Background(), []string{"sign"}, &out, io.Discard); code != exitUsage {
		t.Errorf("sign without -key: exit %d", code)
	}
}

func TestParseProcStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := "4242 (hookd (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 517 83 0 0 20 0 12 0 5000 1000000 3000 18446744073709551615\n"
	st, err := parseProcStat([]byte(line))
	if err != nil || st.comm != "hookd (x) y" || st.utime != 517 || st.stime != 83 || st.cutime != 0 || st.cstime != 0 {
		t.Fatalf("parseProcStat = %+v, %v; want hookd (x) y, 517, 83, 0, 0", st, err)
	}
	if _, err := parseProcStat([]byte("4242 hookd S 1")); err == nil {
		t.Error("a line without (comm) parsed")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if d, err := procCPU(os.Getpid(), clockTicks()); err != nil || d < 0 {
		t.Errorf("procCPU(self) = %v, %v", d, err)
	}
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	if d, n, err := commCPU(strings.TrimSpace(string(self)), clockTicks()); err != nil || n < 1 || d < 0 {
		t.Errorf("commCPU(%q) = %v, %d, %v", self, d, n, err)
	}
	if _, err := checkHookdPid(os.Getpid()); err != nil { // hookd-load.test: looks like hookd
		t.Errorf("checkHookdPid(the test binary): %v", err)
	}
	if _, err := checkHookdPid(1 << 30); err == nil || !strings.Contains(err.Error(), "pgrep") {
		t.Errorf("checkHookdPid(no such process) = %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.mode != modeJWT || o.event != "user_create" || o.n != 10000 || o.senders != 32 || o.listen != "127.0.0.1:8081" ||
		o.jwks != "http://127.0.0.1:7700/.well-known/jwks.json" {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-mode", "events", "-duration", "10s", "-rate", "30", "-paths", "/global, /domain/1", "-hookd", "http://h:1/"}, io.Discard)
	if err != nil || o.event != "newsession" || o.n != 0 || o.duration != 10*time.Second || len(o.paths) != 2 || o.paths[1] != "/domain/1" || o.hookd != "http://h:1" {
		t.Fatalf("events: %+v, %v", o, err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o600)
	for _, args := range [][]string{
		{"-mode", "x"},
		{"-event", "newsession"}, // jwt mode
		{"-n", "0"},
		{"-c", "0"},
		{"-batch", "5", "-format", "form"},
		{"-token", "a", "-token-file", empty},
		{"-token-file", empty},
		{"-paths", "global"},
		{"-paths", "/a,/a"},
		{"-raw-sign-alg", "PS256"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun runs the whole program as main does: it loads the config, opens
// hookd, serves the API, delivers a user's event, and stops cleanly when
// its context ends (SIGINT/SIGTERM in main).
func TestRun(t *testing.T) {
	e := newEnv(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-config", e.config}, &out, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run returned before serving: %v\n%s", err, out.String())
	case <-time.After(waitTimeout):
		t.Fatalf("run not ready after %s\n%s", waitTimeout, out.String())
	}

	a := do(t, http.MethodPost, base+"/signup", `{"username":"ann","domain":"acme","email":"ann@example.com"}`)
	if a.status != http.StatusCreated || a.str("decided_by") != "webapi" {
		t.Fatalf("POST /signup = %d %s", a.status, a.raw)
	}
	ev := e.recv.waitUser(t, "ann")[0]
	if ev.Get("EVENT_ID") != a.str("event_id") {
		t.Errorf("event %v, want EVENT_ID %s", ev, a.str("event_id"))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("run did not stop within %s after its context ended", waitTimeout)
	}
	for _, want := range []string{`msg="proxy listening"`, `msg="user created"`, `msg="shutting down"`, `msg=stopped`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, out.String())
		}
	}
}

// TestRunErrors: bad flags and configs stop run before it serves, with an
// error that says why.
func TestRunErrors(t *testing.T) {
	e := newEnv(t, false)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"argument", []string{"-config", e.config, "extra"}, `unexpected arguments ["extra"]`},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined: -nope"},
		{"missing config", []string{"-config", e.dir + "/missing.toml"}, "missing.toml"},
		{"bad listen", []string{"-config", e.config, "-listen", "127.0.0.1:x"}, "-listen:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			err := run(context.Background(), tc.args, &out, func(string) { t.Error("run served") })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
	var out syncBuffer
	if err := run(context.Background(), []string{"-h"}, &out, nil); err != flag.ErrHelp || !strings.Contains(out.String(), "-config") {
		t.Errorf("run -h = %v with %q, want flag.ErrHelp and the usage", err, out.String())
	}
}

package wasmscript_test

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/builtin/wasmscript"
)

// TestLogsKeepTheLastLinesPerDomain: what a domain's plugin logs while
// handling events is kept per domain, with the event's id, oldest first,
// bounded (the oldest lines go); another domain's lines are apart.
func TestLogsKeepTheLastLinesPerDomain(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	load := func(domain string) *wasmscript.Script {
		s, err := h.Load(context.Background(), wasmscript.Spec{Domain: domain, Path: fixture(t, "echo"),
			Settings: wasmscript.Settings{Timeout: testTimeout, Instances: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	five, six := load("5"), load("6")
	const n = wasmscript.DefaultLogLines + 5
	var ids []string
	for i := range n {
		ev := event("s" + string(rune('a'+i%26)))
		ids = append(ids, ev.ID)
		if _, err := five.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	ev := event("x")
	if _, err := six.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got := h.Logs("5")
	if len(got) != wasmscript.DefaultLogLines {
		t.Fatalf("%d lines kept, want %d", len(got), wasmscript.DefaultLogLines)
	}
	for i, l := range got {
		if want := ids[n-wasmscript.DefaultLogLines+i]; l.EventID != want || l.Domain != "5" || l.Level != "info" || l.Node != "" || l.At.IsZero() {
			t.Fatalf("line %d: %+v; want event %s's, oldest first", i, l, want)
		}
	}
	if six := h.Logs("6"); len(six) != 1 || six[0].EventID != ev.ID {
		t.Errorf("domain 6: %+v", six)
	}
	domains, seq := h.LogDomains()
	if len(domains) != 2 || domains[0] != "5" || domains[1] != "6" || seq != n+1 {
		t.Errorf("LogDomains() = %v, %d", domains, seq)
	}
	if l := h.Logs("7"); l != nil {
		t.Errorf("a domain without lines: %+v", l)
	}
}

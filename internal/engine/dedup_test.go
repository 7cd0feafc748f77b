package engine

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDedup: a repeated identical error is logged once per interval, then
// with the number of repeats; other messages and lower levels pass.
func TestDedup(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newDedup(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Minute))
	ctx := context.Background()
	at := time.Unix(1700000000, 0)
	rec := func(level slog.Level, msg string, at time.Time, attrs ...slog.Attr) {
		r := slog.NewRecord(at, level, msg, 0)
		r.AddAttrs(attrs...)
		if err := log.Handler().Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		rec(slog.LevelError, "poll failed", at.Add(time.Duration(i)*100*time.Millisecond), slog.String("error", "disk full"))
	}
	rec(slog.LevelError, "poll failed", at.Add(time.Second), slog.String("error", "other"))
	rec(slog.LevelInfo, "poll failed", at.Add(time.Second), slog.String("error", "disk full"))
	rec(slog.LevelError, "poll failed", at.Add(2*time.Minute), slog.String("error", "disk full"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("logged %d lines, want 4:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[3], "repeated=99") || !strings.Contains(lines[1], "error=other") || !strings.Contains(lines[2], "level=INFO") {
		t.Errorf("lines:\n%s", buf.String())
	}
}

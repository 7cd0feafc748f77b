package wasmscript_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookrt/hookd/builtin/wasmscript"
)

// TestHandleSpans: with tracing on, a plugin call is a span under the
// caller's, and each host call the guest made is a child of it, within
// the call's time.
func TestHandleSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	h := newHost(t)
	s, err := h.Load(context.Background(), wasmscript.Spec{Domain: "5", Path: fixture(t, "echo"), Strict: true,
		Settings: wasmscript.Settings{Instances: 1, Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "attempt")
	if _, err := s.Handle(ctx, event("s1")); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var plugin sdktrace.ReadOnlySpan
	hosts := 0
	for _, sp := range rec.Ended() {
		if sp.Name() == "hookd.plugin" {
			plugin = sp
		}
	}
	if plugin == nil {
		t.Fatalf("no hookd.plugin span among %d spans", len(rec.Ended()))
	}
	if plugin.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("plugin span's parent %v, want the caller's %v", plugin.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	for _, sp := range rec.Ended() {
		if sp.Parent().SpanID() != plugin.SpanContext().SpanID() {
			continue
		}
		hosts++
		if !strings.HasPrefix(sp.Name(), "hookd.host.") {
			t.Errorf("child span %q, want hookd.host.<function>", sp.Name())
		}
		if sp.StartTime().Before(plugin.StartTime()) || sp.EndTime().After(plugin.EndTime()) {
			t.Errorf("%s [%v, %v] outside the call [%v, %v]", sp.Name(), sp.StartTime(), sp.EndTime(), plugin.StartTime(), plugin.EndTime())
		}
	}
	if hosts == 0 {
		t.Error("no host-call spans under the plugin span (echo reads the event and sets a reply)")
	}
}

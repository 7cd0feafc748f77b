package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// TestStdoutExporter (issue 16, point 7): with Stdout set, every span is
// a JSON line as it ends, with its service, so that traces can be seen
// without a collector.
func TestStdoutExporter(t *testing.T) {
	var buf bytes.Buffer // spans are written as they end (WithSyncer)
	shutdown, err := Setup(context.Background(), Options{Stdout: &buf, SampleRatio: 1, ServiceName: "hookd-test", Version: "v0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := Tracer().Start(context.Background(), "hookd.emit")
	_, child := Tracer().Start(ctx, "hookd.attempt")
	child.SetAttributes(attribute.String("target", "jwt_webhook"))
	child.End()
	parent.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.Bytes())
	}
	var first, second spanLine
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	if first.Name != "hookd.attempt" || first.ParentID != second.SpanID || first.TraceID != second.TraceID ||
		first.Attributes["target"] != "jwt_webhook" || first.Service != "hookd-test" || second.Name != "hookd.emit" {
		t.Errorf("spans:\n%s", buf.Bytes())
	}
}

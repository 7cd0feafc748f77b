package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// stdoutSpan is the part of stdouttrace's JSON this test reads.
type stdoutSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
	Resource []struct {
		Key   string
		Value struct{ Value any }
	}
}

// TestStdoutExporter (issue 16, point 7): with Stdout set, every span is
// written as it ends, with its parent and its service, so that traces can
// be seen without a collector.
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
	dec := json.NewDecoder(&buf)
	var spans []stdoutSpan
	for dec.More() {
		var s stdoutSpan
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("span %d: %v\n%s", len(spans), err, buf.Bytes())
		}
		spans = append(spans, s)
	}
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	first, second := spans[0], spans[1]
	attr := func(kvs []struct {
		Key   string
		Value struct{ Value any }
	}, key string) any {
		for _, kv := range kvs {
			if kv.Key == key {
				return kv.Value.Value
			}
		}
		return nil
	}
	if first.Name != "hookd.attempt" || second.Name != "hookd.emit" || first.Parent.SpanID != second.SpanContext.SpanID ||
		first.SpanContext.TraceID != second.SpanContext.TraceID || attr(first.Attributes, "target") != "jwt_webhook" ||
		attr(first.Resource, "service.name") != "hookd-test" {
		t.Errorf("spans: %+v", spans)
	}
}

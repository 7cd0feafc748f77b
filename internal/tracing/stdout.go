package tracing

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// writerExporter writes each span as one JSON line: [tracing] exporter =
// "stdout", to see traces without a collector. (The OpenTelemetry
// stdouttrace exporter would do; it is not a dependency of hookd yet, and
// this is the little of it hookd needs.)
type writerExporter struct {
	mu sync.Mutex
	w  io.Writer
}

// spanLine is what one line holds.
type spanLine struct {
	Name       string         `json:"name"`
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_span_id,omitempty"`
	Kind       string         `json:"kind"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	DurationMS float64        `json:"duration_ms"`
	Status     string         `json:"status"`
	StatusMsg  string         `json:"status_message,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Service    string         `json:"service,omitempty"`
}

func (e *writerExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	enc := json.NewEncoder(e.w)
	for _, s := range spans {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := spanLine{Name: s.Name(), TraceID: s.SpanContext().TraceID().String(), SpanID: s.SpanContext().SpanID().String(),
			Kind: s.SpanKind().String(), Start: s.StartTime(), End: s.EndTime(),
			DurationMS: float64(s.EndTime().Sub(s.StartTime()).Microseconds()) / 1000,
			Status:     s.Status().Code.String(), StatusMsg: s.Status().Description}
		if p := s.Parent(); p.IsValid() {
			l.ParentID = p.SpanID().String()
		}
		if attrs := s.Attributes(); len(attrs) > 0 {
			l.Attributes = make(map[string]any, len(attrs))
			for _, a := range attrs {
				l.Attributes[string(a.Key)] = a.Value.AsInterface()
			}
		}
		if r := s.Resource(); r != nil {
			if v, ok := r.Set().Value("service.name"); ok {
				l.Service = v.AsString()
			}
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return nil
}

func (e *writerExporter) Shutdown(context.Context) error { return nil }

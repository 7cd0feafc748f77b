package wasmscript

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/tracing"
)

// Traces
//
// Each plugin call is a span ("hookd.plugin", a child of the attempt's),
// and each host call the guest made a child of it ("hookd.host.<name>").
// The host-call spans are made after the call, from the records the
// engine keeps anyway (hostapi.HostCall: start, duration, status), so the
// guest's path has no tracing code in it and costs nothing more when
// tracing is off; only the first hostapi.MaxHostCallRecords host calls of
// a call get a span. An http_request's outgoing request carries the
// plugin span's traceparent.

// startSpan starts the span of one call.
func (s *Script) startSpan(ctx context.Context, ev *hook.Event) (context.Context, trace.Span) {
	return tracing.Tracer().Start(ctx, "hookd.plugin", trace.WithAttributes(
		attribute.String("hookd.domain", s.spec.Domain),
		attribute.String("hookd.plugin.sha256", s.p.SHA256()),
		attribute.String("hookd.event_id", ev.ID)))
}

// endSpan records the call's outcome and its host calls on span, and ends
// it.
func endSpan(span trace.Span, out hostapi.Outcome, outcome string, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(attribute.String("hookd.plugin.outcome", outcome),
		attribute.Int64("hookd.plugin.guest_us", out.Duration.Microseconds()),
		attribute.Int("hookd.plugin.host_calls", len(out.HostCalls)))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	ctx := trace.ContextWithSpan(context.Background(), span)
	for _, hc := range out.HostCalls {
		if hc.Start.IsZero() {
			continue
		}
		_, child := tracing.Tracer().Start(ctx, "hookd.host."+hc.Name, trace.WithTimestamp(hc.Start),
			trace.WithAttributes(attribute.Int64("hookd.host.result", hc.Status)))
		if hc.Status < 0 {
			child.SetStatus(codes.Error, hostapi.StatusName(hc.Status))
		}
		child.End(trace.WithTimestamp(hc.Start.Add(hc.Duration)))
	}
	span.End()
}

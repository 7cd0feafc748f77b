// Package tracing sets up OpenTelemetry traces for hookd, exported over
// OTLP/HTTP, and names the tracer its packages start spans with.
//
// hookd's code starts spans through the global tracer provider (Tracer):
// a no-op until Setup installs a real one, so tracing costs nothing when
// it is off, and a program that embeds hookd and installs its own global
// provider gets hookd's spans in its traces without any set-up here.
package tracing

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of hookd's spans.
const Name = "github.com/hookrt/hookd"

// Tracer returns hookd's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Options configure Setup.
type Options struct {
	// Stdout, when not nil, is where spans go, one JSON object each as
	// it ends ([tracing] exporter = "stdout"), instead of an OTLP
	// collector.
	Stdout io.Writer
	// Endpoint is the OTLP/HTTP traces URL, e.g.
	// "http://collector:4318/v1/traces"; "" leaves it to the standard
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT
	// variables, which the exporter reads (with OTEL_EXPORTER_OTLP_HEADERS,
	// _TIMEOUT, _COMPRESSION and the TLS ones).
	Endpoint string
	// Headers go with every export (an API key of a hosted collector).
	Headers map[string]string
	// SampleRatio is the share of new traces recorded; a trace whose
	// parent (from a traceparent header) is sampled is always recorded.
	SampleRatio float64
	// ServiceName and Version describe the process.
	ServiceName, Version string
}

// Setup installs a tracer provider exporting to o.Endpoint, and the W3C
// trace-context propagator, as the process's globals. The returned
// shutdown flushes what is buffered; call it once, at exit.
func Setup(ctx context.Context, o Options) (shutdown func(context.Context) error, err error) {
	var exp sdktrace.SpanExporter
	if o.Stdout != nil {
		// OpenTelemetry's own stdout exporter: one JSON object per span,
		// in the SDK's span model (SpanContext, Parent, Attributes, …).
		exp, err = stdouttrace.New(stdouttrace.WithWriter(o.Stdout))
		if err != nil {
			return nil, fmt.Errorf("stdout exporter: %w", err)
		}
	} else {
		var opts []otlptracehttp.Option
		if o.Endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(o.Endpoint))
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
		}
		if os.Getenv("OTEL_EXPORTER_OTLP_TIMEOUT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") == "" {
			opts = append(opts, otlptracehttp.WithTimeout(10*time.Second))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
	}
	res := resource.NewSchemaless(semconv.ServiceName(o.ServiceName), semconv.ServiceVersion(o.Version),
		attribute.String("telemetry.sdk.name", "opentelemetry"))
	export := sdktrace.WithBatcher(exp)
	if o.Stdout != nil {
		export = sdktrace.WithSyncer(exp) // a line as each span ends
	}
	tp := sdktrace.NewTracerProvider(
		export,
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// Inject writes ctx's trace context into the headers of an outgoing
// request (traceparent, tracestate), so that a receiver's own traces join
// the attempt's. A no-op while tracing is off.
func Inject(ctx context.Context, h propagation.HeaderCarrier) {
	otel.GetTextMapPropagator().Inject(ctx, h)
}

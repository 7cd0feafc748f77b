package runtime

import (
	"cmp"
	"context"
	"fmt"
	"os"

	"github.com/hookrt/hookd/internal/tracing"
)

// startTracing installs the global OpenTelemetry tracer provider of
// [tracing], when an endpoint is set, and returns what flushes it at
// Close; nil when tracing is off. Spans: one per emit (a child of the
// caller's, e.g. of the API request), one per delivery attempt (a child of
// its emit when the attempt is made at once, with traceparent sent to the
// receiver), one per plugin call.
func startTracing(ctx context.Context, cfg *Config, o options) (func(context.Context) error, error) {
	t := cfg.Tracing
	exp := t.exporter()
	if exp == "" {
		return nil, nil
	}
	opts := tracing.Options{Endpoint: t.Endpoint, Headers: t.Headers,
		SampleRatio: t.SampleRatio, ServiceName: t.ServiceName, Version: o.version}
	where := t.Endpoint
	if exp == ExporterStdout {
		opts.Stdout, where = os.Stdout, "stdout"
	} else if where == "" {
		where = cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) + " (OTEL_EXPORTER_OTLP_*)"
	}
	shutdown, err := tracing.Setup(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: [tracing]: %w", cfg.name(), err)
	}
	o.logger.InfoContext(ctx, "tracing on", "exporter", exp, "to", where, "service", t.ServiceName, "sample_ratio", t.SampleRatio)
	return shutdown, nil
}

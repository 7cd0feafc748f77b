package runtime

import (
	"context"
	"fmt"

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
	if t.Endpoint == "" {
		return nil, nil
	}
	shutdown, err := tracing.Setup(ctx, tracing.Options{Endpoint: t.Endpoint, Headers: t.Headers,
		SampleRatio: t.SampleRatio, ServiceName: t.ServiceName, Version: o.version})
	if err != nil {
		return nil, fmt.Errorf("%s: [tracing]: %w", cfg.name(), err)
	}
	o.logger.InfoContext(ctx, "tracing on", "endpoint", t.Endpoint, "sample_ratio", t.SampleRatio)
	return shutdown, nil
}

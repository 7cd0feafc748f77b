package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hookrt/hookd/internal/metrics"
)

// breakerSource has the breakers of three HTTP-events domains (two open)
// and of the JWT webhook (closed).
type breakerSource struct{}

func (breakerSource) Snapshot(context.Context) (metrics.Snapshot, error) {
	return metrics.Snapshot{BreakersOpen: 2, BreakerOpen: map[string]bool{
		"http_events.domain.5": true, "http_events.domain.7": true, "http_events.domain.9": false, "jwt_webhook": false,
	}}, nil
}

// TestBreakerOpenGauge: hookd_breaker_open counts the open breakers by
// target kind, or says 0 or 1 per target with PerTarget.
func TestBreakerOpenGauge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		perTarget bool
		want      string
	}{
		{false, `
# HELP hookd_breaker_open Targets whose circuit breaker is open on this node, by target kind (or by target, 0 or 1, with per_target).
# TYPE hookd_breaker_open gauge
hookd_breaker_open{target_kind="http_events.domain"} 2
hookd_breaker_open{target_kind="jwt_webhook"} 0
`},
		{true, `
# HELP hookd_breaker_open Targets whose circuit breaker is open on this node, by target kind (or by target, 0 or 1, with per_target).
# TYPE hookd_breaker_open gauge
hookd_breaker_open{target="http_events.domain.5",target_kind="http_events.domain"} 1
hookd_breaker_open{target="http_events.domain.7",target_kind="http_events.domain"} 1
hookd_breaker_open{target="http_events.domain.9",target_kind="http_events.domain"} 0
hookd_breaker_open{target="jwt_webhook",target_kind="jwt_webhook"} 0
`},
	} {
		m := metrics.New(metrics.Options{PerTarget: tc.perTarget, Source: breakerSource{}})
		if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(tc.want), "hookd_breaker_open"); err != nil {
			t.Errorf("per_target %v: %v", tc.perTarget, err)
		}
	}
}

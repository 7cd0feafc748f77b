package engine_test

import (
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
)

// BenchmarkRetryLateness measures how late first retries start after
// their due time, on each store, with a 1 s schedule and the default
// jitter (0.2) and poll_interval (50 ms): b.N waves of 50 deliveries that
// fail once (measureRetries). It reports the median and worst lateness of
// the handler's call (what a receiver sees: "handler-p50-ms",
// "handler-max-ms") and of River's taking the job ("job-p50-ms",
// "job-max-ms"), against the due time recorded with the failure, which
// includes the jitter. The target is at most poll_interval. Run without
// -race, e.g. -bench RetryLateness -benchtime 5x; ns/op is a wave's time
// and means nothing here.
func BenchmarkRetryLateness(b *testing.B) {
	for _, c := range storetest.All() {
		b.Run(c.Name, func(b *testing.B) {
			l := measureRetries(b, c.Store(b), retryOptions(), b.N, 50)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(l.handler[len(l.handler)/2]), "handler-p50-ms")
			b.ReportMetric(ms(l.handler[len(l.handler)-1]), "handler-max-ms")
			b.ReportMetric(ms(l.job[len(l.job)/2]), "job-p50-ms")
			b.ReportMetric(ms(l.job[len(l.job)-1]), "job-max-ms")
		})
	}
}

package engine_test

import (
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
)

// TestRetryWakeOnPostgres: on PostgreSQL the retry clock wakes River's
// fetchers when a retry is due, so a retry does not wait for the next
// poll: with poll_interval at its 10 s maximum, two waves of retries are
// each taken within a quarter of it of their due time (a few milliseconds
// on an idle machine). Without the wake, a wave waited for the poll's
// phase, anywhere in 0–11 s.
func TestRetryWakeOnPostgres(t *testing.T) {
	d := retryOptions()
	d.PollInterval = 10 * time.Second
	l := measureRetries(t, storetest.Postgres(t), d, 2, 10)
	worst := l.job[len(l.job)-1]
	t.Logf("retry jobs taken after their due time: median %s, worst %s; handlers: median %s, worst %s",
		l.job[len(l.job)/2], worst, l.handler[len(l.handler)/2], l.handler[len(l.handler)-1])
	if worst > d.PollInterval/4 {
		t.Errorf("a retry was taken %s after its due time; want the wake, not the %s poll", worst, d.PollInterval)
	}
}

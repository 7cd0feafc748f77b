package engine

import (
	"testing"
	"time"
)

// TestRiverPollsWithinPollInterval: River, as the engine configures it,
// waits at most 9/10 of poll_interval between two polls (its
// FetchPollInterval plus its random max(1/10, 10 ms)), so that a due
// retry is fetched and started within poll_interval. Given poll_interval
// itself, River waited up to 60 ms at the default 50 ms.
func TestRiverPollsWithinPollInterval(t *testing.T) {
	for _, p := range []time.Duration{50 * time.Millisecond, time.Second} {
		rc := queueConfig{pollInterval: p, noWorkers: true}.river()
		if gap := rc.FetchPollInterval + max(rc.FetchPollInterval/10, 10*time.Millisecond); gap > p*9/10 {
			t.Errorf("poll_interval %s: River waits up to %s between polls (FetchPollInterval %s); want at most %s", p, gap, rc.FetchPollInterval, p*9/10)
		}
	}
}

package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/ops"
)

// statsBackend keeps outcomes, as the runtime does ([StatsSource]).
type statsBackend struct{ nopBackend }

func (statsBackend) Stats() ops.Stats {
	return ops.Stats{Interval: time.Second, Buckets: []ops.StatsBucket{
		{Start: time.Unix(1800000000, 0).UTC(), Delivered: 7, Failed: 2, Dead: 1, P50: 3 * time.Millisecond, P99: 40 * time.Millisecond}}}
}

// TestStatsFromTheRuntimesType: a backend that keeps outcomes (the
// runtime's Stats is ops.Stats) feeds the chart; one with nothing
// recorded has an empty chart.
func TestStatsFromTheRuntimesType(t *testing.T) {
	t.Parallel()
	chart := func(b Backend) ops.ChartData {
		t.Helper()
		h := New(b, Options{})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "http://admin.example/admin/", nil)
		h.ServeHTTP(w, r)
		cookies := w.Result().Cookies()
		r = httptest.NewRequest(http.MethodGet, "http://admin.example/admin/stats.json", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var out ops.ChartData
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("stats.json: %v: %s", err, w.Body.String())
		}
		return out
	}
	if got := chart(statsBackend{}); len(got.Delivered) != 1 || got.Delivered[0] != 7 || got.Dead[0] != 1 || got.P99MS[0] != 40 {
		t.Errorf("a backend with outcomes: %+v", got)
	}
	if got := chart(nopBackend{}); len(got.Delivered) != 0 {
		t.Errorf("a backend with an empty ops.Stats: %+v", got)
	}
}

package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/ops"
)

// lookAlikeStats has the JSON form of ops.Stats under other Go types, as
// the runtime's Stats has until it is an alias of ops.Stats.
type lookAlikeStats struct {
	Interval time.Duration     `json:"interval_ns"`
	Buckets  []lookAlikeBucket `json:"buckets"`
}

type lookAlikeBucket struct {
	Start     time.Time     `json:"start"`
	Delivered int           `json:"delivered"`
	Failed    int           `json:"failed"`
	Dead      int           `json:"dead"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
}

type lookAlikeBackend struct{ nopBackend }

func (lookAlikeBackend) Stats() lookAlikeStats {
	return lookAlikeStats{Interval: time.Second, Buckets: []lookAlikeBucket{
		{Start: time.Unix(1800000000, 0).UTC(), Delivered: 7, Failed: 2, Dead: 1, P50: 3 * time.Millisecond, P99: 40 * time.Millisecond}}}
}

// TestStatsFromTheRuntimesType: a backend whose Stats returns a type of
// its own with ops.Stats's form still feeds the chart (the daemon's
// runtime, until its Stats is ops.Stats); one with ops.Stats is taken as
// it is; one without Stats has an empty chart.
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
	if got := chart(lookAlikeBackend{}); len(got.Delivered) != 1 || got.Delivered[0] != 7 || got.Dead[0] != 1 || got.P99MS[0] != 40 {
		t.Errorf("a look-alike Stats: %+v", got)
	}
	if got := chart(nopBackend{}); len(got.Delivered) != 0 {
		t.Errorf("a backend with an empty ops.Stats: %+v", got)
	}
}

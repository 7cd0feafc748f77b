package httpevents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// BenchmarkFanOut measures HTTP events end to end: events POSTed to the
// API as forms (16 concurrent clients), each delivered to the global script
// and to its domain's script, both strict and answering <nomessage/>, on
// SQLite. It reports acknowledged deliveries/s and the p50/p99 from the
// POST to the last acknowledgement of the event. -benchtime Nx = N events.
func BenchmarkFanOut(b *testing.B) {
	for _, workers := range []int{100, 500, 1000} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchFanOut(b, workers) })
	}
}

func benchFanOut(b *testing.B, workers int) {
	ack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Write([]byte("<nomessage/>"))
	})
	global, domain := httptest.NewServer(ack), httptest.NewServer(ack)
	defer global.Close()
	defer domain.Close()
	cfg, err := parse(b, fmt.Sprintf(`
[http_events]
global = true
global_server = %q
global_strict = true
per_domain = true
per_domain_strict = true
allow_private = ["127.0.0.0/8"]
[[domain]]
id = "1"
script = %q
`, strings.TrimPrefix(global.URL, "http://"), domain.URL))
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store = storetest.SQLite(b)
	cfg.Delivery.PollInterval = hook.Duration(10 * time.Millisecond)
	cfg.Delivery.Workers = workers

	var (
		mu      sync.Mutex
		posted  = map[string]time.Time{}
		acked   = map[string]int{}
		lat     []time.Duration
		done    atomic.Int64
		all     = make(chan struct{})
		want    = int64(2 * b.N)
		pending = map[string]time.Time{} // acks seen before the POST answered
	)
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(func(_ context.Context, o hook.Observation) {
		if o.State != "delivered" {
			return
		}
		now := time.Now()
		mu.Lock()
		acked[o.EventID]++
		if acked[o.EventID] == 2 {
			if t0, ok := posted[o.EventID]; ok {
				lat = append(lat, now.Sub(t0))
			} else {
				pending[o.EventID] = now
			}
		}
		mu.Unlock()
		if done.Add(1) == want {
			close(all)
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	srv := httptest.NewServer(api.New(rt, api.Options{}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := url.Values{"MODULE": {"ISL_LIGHT"}, "EVENT": {"START"}, "DOMAIN_ID": {"1"}, "SERVERID": {"grid-1"},
		"SESSIONID": {"5a1b"}, "CPUSER_ID": {"42"}, "reasonAddress": {"192.0.2.7"}}.Encode()

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				resp, err := client.Post(srv.URL+"/v1/events", "application/x-www-form-urlencoded", strings.NewReader(body))
				if err != nil {
					panic(err)
				}
				var out struct {
					EventID string `json:"event_id"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				mu.Lock()
				posted[out.EventID] = t0
				if at, ok := pending[out.EventID]; ok {
					lat = append(lat, at.Sub(t0))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(10 * time.Minute):
		b.Fatalf("only %d of %d acknowledged", done.Load(), want)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(want)/elapsed.Seconds(), "acks/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	}
}

package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// postTarget is the JWT webhook's delivery path without the signing: a
// POST through the outbound client, any 2xx acknowledging.
func postTarget(name, url string, timeout time.Duration) hook.Target {
	c := outbound.New(outbound.Options{Timeout: timeout})
	return hook.Target{Name: name, Handler: hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(ev.ID))
		return outbound.Classify(c.Do(ctx, req))
	})}
}

// receiver is a loopback HTTP server whose answer a test can switch.
type receiver struct {
	*httptest.Server
	mode    atomic.Value // func(http.ResponseWriter, *http.Request)
	hits    atomic.Int64
	release chan struct{}
}

func newReceiver(t *testing.T, mode func(w http.ResponseWriter, r *http.Request)) *receiver {
	r := &receiver{release: make(chan struct{})}
	r.mode.Store(mode)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.mode.Load().(func(http.ResponseWriter, *http.Request))(w, req)
	}))
	t.Cleanup(func() {
		close(r.release)
		r.Server.Close()
	})
	return r
}

func (r *receiver) set(mode func(w http.ResponseWriter, r *http.Request)) { r.mode.Store(mode) }

func status(code int, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "<html>status %d</html>", code)
	}
}

// refusedURL returns a loopback URL nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

func TestDeliverySuite(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		cfg := testConfig(st)
		cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(50 * time.Millisecond)}
		// Long enough that a loaded machine never times out a receiver
		// that answers. The two receivers that hang have a target timeout
		// of their own, shorter, so that their two attempts do not take
		// the 2 s each: what is checked is that a hang is a timeout.
		const timeout, hangTimeout = 2 * time.Second, 300 * time.Millisecond
		cfg.Delivery.Timeout = hook.Duration(timeout)

		ok := newReceiver(t, status(200))
		redirect := newReceiver(t, status(302, "Location", "http://example.invalid/"))
		bad := newReceiver(t, status(400))
		gone := newReceiver(t, status(410))
		limited := newReceiver(t, status(429, "Retry-After", "1"))
		broken := newReceiver(t, status(500))
		var hang *receiver
		hang = newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-hang.release })
		var slow *receiver
		slow = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.Write(bytes.Repeat([]byte("x"), 100))
			w.(http.Flusher).Flush()
			<-slow.release
		})
		refused := refusedURL(t)

		obs := newObservations()
		opts := []hookrt.Option{hookrt.WithObserver(obs.observe)}
		for name, url := range map[string]string{
			"ok": ok.URL, "redirect": redirect.URL, "bad": bad.URL, "gone": gone.URL, "limited": limited.URL,
			"broken": broken.URL, "hang": hang.URL, "slow": slow.URL, "refused": refused,
		} {
			d := timeout
			if name == "hang" || name == "slow" {
				d = hangTimeout
			}
			opts = append(opts, hookrt.WithTarget(postTarget(name, url, d)))
		}
		rt := open(t, cfg, opts...)
		ctx := context.Background()
		if _, err := rt.Emit(ctx, userCreate(1)); err != nil {
			t.Fatal(err)
		}
		failing := map[string]string{
			"redirect": "HTTP 302: redirects are not followed",
			"bad":      "HTTP 400",
			"broken":   "HTTP 500",
			"hang":     "timeout after",
			"slow":     "timeout after",
			"refused":  "connection refused",
		}
		obs.wait(t, "every failing target retried twice, ok delivered, gone dead", func(o []hook.Observation) bool {
			for name := range failing {
				if count("retrying", name)(o) < 2 {
					return false
				}
			}
			return count("delivered", "ok")(o) == 1 && count("dead", "gone")(o) == 1 && count("retrying", "limited")(o) >= 1
		})
		for _, o := range obs.Seen() {
			if want, isFailing := failing[o.Target]; isFailing && o.State == "retrying" {
				if o.Err == nil || !strings.Contains(o.Err.Error(), want) {
					t.Errorf("%s: error %v; want it to contain %q", o.Target, o.Err, want)
				}
			}
			if o.Target == "limited" && o.State == "retrying" && o.Attempt == 1 {
				if wait := o.Next.Sub(o.At); wait < time.Second {
					t.Errorf("limited: next attempt in %s; Retry-After asked for 1s", wait)
				}
			}
		}
		if redirect.hits.Load() == 0 {
			t.Error("redirect receiver never hit")
		}

		// 410 disabled the target: a new event for it dies without an attempt.
		goneHits := gone.hits.Load()
		if _, err := rt.Emit(ctx, userCreate(2)); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "second gone delivery dead", func(o []hook.Observation) bool { return count("dead", "gone")(o) == 2 })
		if gone.hits.Load() != goneHits {
			t.Error("a disabled target was attempted")
		}
		ds, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{Target: "gone", State: hook.StateDead})
		if err != nil || len(ds) != 2 || !strings.Contains(ds[0].LastError, "target disabled") {
			t.Fatalf("gone deliveries: %v %+v", err, ds)
		}

		// Fix the failing receivers: strict retrying stops once acknowledged.
		for _, r := range []*receiver{redirect, bad, broken, limited} {
			r.set(status(204))
		}
		obs.wait(t, "fixed receivers acknowledged", func(o []hook.Observation) bool {
			for _, name := range []string{"redirect", "bad", "broken", "limited"} {
				if count("delivered", name)(o) != 2 {
					return false
				}
			}
			return true
		})
		d, err := rt.ListDeliveries(ctx, hook.DeliveryFilter{Target: "broken"})
		if err != nil {
			t.Fatal(err)
		}
		full, err := rt.Delivery(ctx, d[len(d)-1].ID)
		if err != nil {
			t.Fatal(err)
		}
		last := full.History[len(full.History)-1]
		first := full.History[0]
		if full.State != hook.StateDelivered || last.Status != 204 || first.Status != 500 ||
			!strings.Contains(first.Response, "status 500") || first.Latency <= 0 {
			t.Errorf("broken delivery log: %+v", full)
		}
	})
}

// TestDeadTargetDoesNotDelayOthers: a receiver that never answers holds at
// most half the workers, so a healthy target's events all arrive while the
// dead one's first attempts are still hanging.
func TestDeadTargetDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		cfg := testConfig(st)
		cfg.Delivery.Workers = 8
		cfg.Delivery.Timeout = hook.Duration(time.Minute)
		var hang *receiver
		hang = newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-hang.release })
		healthy := newReceiver(t, status(204))
		obs := newObservations()
		rt := open(t, cfg, hookrt.WithObserver(obs.observe),
			hookrt.WithTarget(postTarget("dead", hang.URL, time.Minute)),
			hookrt.WithTarget(postTarget("healthy", healthy.URL, time.Minute)))
		ctx := context.Background()
		const n = 40
		batch := make([]map[string]string, n)
		for i := range batch {
			batch[i] = userCreate(i)
		}
		if _, err := rt.EmitMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "all healthy deliveries", func(o []hook.Observation) bool { return count("delivered", "healthy")(o) == n })
		for _, o := range obs.Seen() {
			if o.Target == "dead" {
				t.Fatalf("the dead target finished an attempt (%+v) before the healthy one was served", o)
			}
		}
		if got := hang.hits.Load(); got > int64(cfg.Delivery.Workers/2) {
			t.Errorf("the dead target holds %d attempts at once; at most %d allowed", got, cfg.Delivery.Workers/2)
		}
	})
}

var _ sync.Mutex

// TestAttemptLongerThanRetryStep: when an attempt outlasts the retry step,
// the next attempt is due at once (a regression: a negative snooze made
// River back off by itself, for seconds, then minutes).
func TestAttemptLongerThanRetryStep(t *testing.T) {
	t.Parallel()
	cfg := testConfig(teststore.SQLite(t))
	cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(time.Millisecond)}
	slow := hook.HandlerFunc(func(ctx context.Context, _ *hook.Event) (hook.Result, error) {
		<-ctx.Done() // every attempt runs into the timeout
		return hook.Result{}, ctx.Err()
	})
	obs := newObservations()
	// The target's own timeout (below the config's 100 ms floor).
	rt := open(t, cfg, hookrt.WithObserver(obs.observe),
		hookrt.WithTarget(hook.Target{Name: "slow", Handler: slow, Policy: hook.Policy{Timeout: 50 * time.Millisecond}}))
	if _, err := rt.Emit(context.Background(), userCreate(1)); err != nil {
		t.Fatal(err)
	}
	obs.wait(t, "six attempts", func(o []hook.Observation) bool { return count("retrying", "slow")(o) >= 6 })
}

// TestResumeAfterOutage: a target down long enough to open its breaker is
// probed on its retry schedule, not after the fixed breaker cool-down, so
// delivery resumes within the schedule's step once the receiver is back
// (the breaker used to wait its 30 s cool-down whatever the schedule said).
func TestResumeAfterOutage(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, func(t *testing.T, st hookrt.StoreConfig) {
		cfg := testConfig(st)
		cfg.Delivery.RetrySchedule = []hook.Duration{hook.Duration(200 * time.Millisecond)}
		cfg.Delivery.BreakerThreshold = 2
		cfg.Delivery.BreakerCooldown = hook.Duration(5 * time.Minute) // the cap; the schedule's 200 ms step applies
		down := newReceiver(t, status(503))
		obs := newObservations()
		rt := open(t, cfg, hookrt.WithObserver(obs.observe), hookrt.WithTarget(postTarget("flaky", down.URL, 2*time.Second)))
		ctx := context.Background()
		if _, err := rt.Emit(ctx, userCreate(1)); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "the breaker open", func(o []hook.Observation) bool { return count("retrying", "flaky")(o) >= 3 })
		back := time.Now()
		down.set(status(204))
		obs.wait(t, "delivered after recovery", func(o []hook.Observation) bool { return count("delivered", "flaky")(o) == 1 })
		if took := time.Since(back); took > time.Minute {
			t.Errorf("delivered %s after the receiver came back; the breaker's probe should follow the 200 ms schedule, not the 5 m cap", took)
		}
	})
}

package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

func TestScheduleDelay(t *testing.T) {
	s := schedule{steps: []time.Duration{time.Second, time.Minute, time.Hour}}
	for k, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: time.Minute, 3: time.Hour, 9: time.Hour} {
		if got := s.delay(k); got != want {
			t.Errorf("delay(%d) = %s, want %s", k, got, want)
		}
	}
	s.jitter = 0.2
	for i := 0; i < 1000; i++ {
		if d := s.delay(2); d < 48*time.Second || d > 72*time.Second {
			t.Fatalf("jittered delay %s outside ±20%% of 1m", d)
		}
	}
}

func TestBreaker(t *testing.T) {
	b := &breaker{threshold: 3, sched: schedule{steps: []time.Duration{time.Second, 2 * time.Second, 8 * time.Second}}, cap: 4 * time.Second}
	now := time.Unix(0, 0)
	for i := 0; i < 2; i++ {
		if w := b.admit(now); w != 0 {
			t.Fatalf("closed breaker made attempt %d wait %s", i, w)
		}
		b.record(false, now, "x")
	}
	if b.open(now) {
		t.Fatal("opened before the threshold")
	}
	b.admit(now)
	b.record(false, now, "x") // third consecutive failure opens it: the schedule's first step, 1s
	if !b.open(now) {
		t.Fatal("not open after the threshold")
	}
	if w := b.admit(now.Add(500 * time.Millisecond)); w < 500*time.Millisecond || w > 1500*time.Millisecond {
		t.Errorf("wait while open: %s", w)
	}
	// The step is over: one probe goes, the others wait.
	later := now.Add(time.Second)
	if w := b.admit(later); w != 0 {
		t.Fatalf("probe not admitted after the schedule's first step: %s", w)
	}
	if w := b.admit(later); w == 0 {
		t.Fatal("second attempt admitted while the probe runs")
	}
	b.record(false, later, "x") // the probe fails: the schedule's next step, 2s
	if w := b.admit(later.Add(1500 * time.Millisecond)); w == 0 {
		t.Fatal("admitted before the second step")
	}
	probe := later.Add(2 * time.Second)
	if w := b.admit(probe); w != 0 {
		t.Fatalf("second probe not admitted: %s", w)
	}
	b.record(false, probe, "x") // the next step is 8s, over the 4s cap
	if b.cooldown != 4*time.Second {
		t.Errorf("wait %s, want the cap 4s", b.cooldown)
	}
	b.admit(probe.Add(4 * time.Second))
	b.record(false, probe.Add(4*time.Second), "x") // the last step repeats, capped
	if b.cooldown != 4*time.Second {
		t.Errorf("wait %s, want the cap 4s", b.cooldown)
	}
	ok := probe.Add(8 * time.Second)
	if w := b.admit(ok); w != 0 {
		t.Fatal("probe not admitted")
	}
	b.record(true, ok, "")
	if b.open(ok) || b.admit(ok) != 0 || b.failures != 0 || b.opens != 0 {
		t.Error("a successful probe did not close the breaker")
	}
	// Open again: the schedule starts over.
	for range 3 {
		b.admit(ok)
		b.record(false, ok, "x")
	}
	if b.cooldown != time.Second {
		t.Errorf("after a recovery the breaker opened for %s, want the first step again", b.cooldown)
	}
}

// TestBreakerTransitions: record reports each opening and closing once; a
// failure while open (a failed probe) is no transition.
func TestBreakerTransitions(t *testing.T) {
	b := &breaker{threshold: 2, sched: schedule{steps: []time.Duration{time.Second}}, cap: time.Minute}
	now := time.Unix(0, 0)
	if ch := b.record(false, now, "HTTP 500"); ch.opened || ch.closed {
		t.Fatalf("below the threshold: %+v", ch)
	}
	ch := b.record(false, now, "HTTP 502")
	if !ch.opened || !ch.until.Equal(now.Add(time.Second)) {
		t.Fatalf("at the threshold: %+v, want opened until +1s", ch)
	}
	if v := b.view(now); !v.open || v.cause != "HTTP 502" || !v.openedAt.Equal(now) {
		t.Errorf("view %+v", v)
	}
	later := now.Add(2 * time.Second)
	b.admit(later) // the probe
	if ch := b.record(false, later, "HTTP 503"); ch.opened || ch.closed {
		t.Errorf("a failed probe is a transition: %+v", ch)
	}
	if got := breakerDetail(b.view(later)); got != "opened 00:00:00 UTC: HTTP 502 (open until 00:00:03 UTC)" {
		t.Errorf("detail while open: %q", got)
	}
	end := now.Add(4 * time.Second)
	b.admit(end)
	if ch := b.record(true, end, ""); !ch.closed {
		t.Errorf("a successful probe did not report the closing: %+v", ch)
	}
	if got := breakerDetail(b.view(end)); got != "closed 00:00:04 UTC (opened 00:00:00 UTC: HTTP 502)" {
		t.Errorf("detail once closed: %q", got)
	}
	if ch := b.record(true, end, ""); ch.closed {
		t.Error("a success while closed reported a closing")
	}
}

// TestDecideNeverGivesUp: a maximum age of 0 means no maximum: a delivery
// of any age is retried (a strict script's events, as the proxy does).
func TestDecideNeverGivesUp(t *testing.T) {
	e := &Engine{maxAge: 0}
	tg := &target{sched: schedule{steps: []time.Duration{time.Hour}}}
	wk := &store.Work{Since: time.Now().Add(-365 * 24 * time.Hour), Attempts: 1000}
	if out := e.decide(tg, wk, errors.New("HTTP 500"), time.Now()); out.State != hook.StateRetrying {
		t.Errorf("max_age 0: %+v, want retrying", out)
	}
	e.maxAge = 72 * time.Hour
	out := e.decide(tg, wk, errors.New("HTTP 500"), time.Now())
	if out.State != hook.StateDead || out.Error != "HTTP 500 — gave up: next attempt would pass the maximum age 72h" {
		t.Errorf("max_age 72h: %+v", out)
	}
}

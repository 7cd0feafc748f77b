package engine

import (
	"testing"
	"time"
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
		b.record(false, now)
	}
	if b.open(now) {
		t.Fatal("opened before the threshold")
	}
	b.admit(now)
	b.record(false, now) // third consecutive failure opens it: the schedule's first step, 1s
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
	b.record(false, later) // the probe fails: the schedule's next step, 2s
	if w := b.admit(later.Add(1500 * time.Millisecond)); w == 0 {
		t.Fatal("admitted before the second step")
	}
	probe := later.Add(2 * time.Second)
	if w := b.admit(probe); w != 0 {
		t.Fatalf("second probe not admitted: %s", w)
	}
	b.record(false, probe) // the next step is 8s, over the 4s cap
	if b.cooldown != 4*time.Second {
		t.Errorf("wait %s, want the cap 4s", b.cooldown)
	}
	b.admit(probe.Add(4 * time.Second))
	b.record(false, probe.Add(4*time.Second)) // the last step repeats, capped
	if b.cooldown != 4*time.Second {
		t.Errorf("wait %s, want the cap 4s", b.cooldown)
	}
	ok := probe.Add(8 * time.Second)
	if w := b.admit(ok); w != 0 {
		t.Fatal("probe not admitted")
	}
	b.record(true, ok)
	if b.open(ok) || b.admit(ok) != 0 || b.failures != 0 || b.opens != 0 {
		t.Error("a successful probe did not close the breaker")
	}
	// Open again: the schedule starts over.
	for range 3 {
		b.admit(ok)
		b.record(false, ok)
	}
	if b.cooldown != time.Second {
		t.Errorf("after a recovery the breaker opened for %s, want the first step again", b.cooldown)
	}
}

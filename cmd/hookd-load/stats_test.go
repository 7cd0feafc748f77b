package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms: the p-th percentile is p ms exactly.
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.5, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%g of 1..100 ms = %v, want %v", c.p, got, c.want)
		}
	}
	// Ten values: p50 is the 5th, p90 the 9th, p99 the 10th (nearest rank
	// never interpolates and never rounds down below p %).
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]time.Duration{50: 5, 90: 9, 99: 10, 91: 10, 10: 1, 11: 2} {
		if got := percentile(ten, p); got != want {
			t.Errorf("p%g of 1..10 = %d, want %d", p, got, want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value = %d, want 7", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %d, want 0", got)
	}
	// Negative latencies (an arrival before its 202 was read) sort first.
	neg := []time.Duration{-3, 1, 2, 3}
	if got := percentile(neg, 25); got != -3 {
		t.Errorf("p25 = %d, want -3", got)
	}
}

func TestSteadyRateMiddle80(t *testing.T) {
	// 1000 arrivals: the first 100 dribble in over 10 s (ramp-up), the
	// middle 800 at exactly 1 ms apart, the last 100 over another 20 s
	// (stragglers). The steady rate is the middle's: 1000/s.
	var a []time.Duration
	at := time.Duration(0)
	for range 100 {
		at += 100 * time.Millisecond
		a = append(a, at)
	}
	for range 800 {
		at += time.Millisecond
		a = append(a, at)
	}
	for range 100 {
		at += 200 * time.Millisecond
		a = append(a, at)
	}
	s := steadyRate(a)
	// lo = index 100 (the first of the middle), hi = index 899 (its last):
	// 799 arrivals after lo in 799 ms.
	if s.count != 799 || s.t10 != a[100] || s.t90 != a[899] || s.window != 799*time.Millisecond {
		t.Fatalf("steady = %+v; want 799 arrivals from %v to %v", s, a[100], a[899])
	}
	if math.Abs(s.rate-1000) > 1e-6 {
		t.Errorf("steady rate = %f, want 1000", s.rate)
	}
	// The overall rate is far lower: that is the point of the steady one.
	if overall := rate(len(a), a[len(a)-1]); overall > 50 {
		t.Errorf("overall = %f; the fixture is wrong", overall)
	}
}

func TestSteadyRateSmallAndDegenerate(t *testing.T) {
	if s := steadyRate(nil); s.rate != 0 || s.count != 0 {
		t.Errorf("no arrivals: %+v", s)
	}
	if s := steadyRate([]time.Duration{time.Second}); s.rate != 0 {
		t.Errorf("one arrival: %+v", s)
	}
	// Fewer than 10: all are used (lo = 0, hi = n-1).
	s := steadyRate([]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond})
	if s.count != 3 || math.Abs(s.rate-10) > 1e-9 {
		t.Errorf("4 arrivals 100 ms apart: %+v, want 3 in 300 ms = 10/s", s)
	}
	// All at one instant: no rate rather than +Inf.
	if s := steadyRate([]time.Duration{5, 5, 5}); s.rate != 0 || math.IsInf(s.rate, 0) {
		t.Errorf("simultaneous arrivals: %+v", s)
	}
}

func TestTrackerLostDuplicatesStaleUnmatched(t *testing.T) {
	tr := newTracker(time.Now(), "run", nil)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	tr.accept("a", ms(10), ms(10))
	tr.accept("b", ms(11), ms(11))
	tr.accept("c", ms(12), ms(12)) // never arrives: lost
	tr.accept("d", ms(20), ms(30)) // POSTed at 20 ms, its 202 read at 30 ms
	if k := tr.arrive("a", "run", 0, ms(40)); k != arrivalNew {
		t.Errorf("first arrival of a: %v", k)
	}
	if k := tr.arrive("a", "run", 0, ms(90)); k != arrivalDuplicate { // a retry: a duplicate
		t.Errorf("second arrival of a: %v", k)
	}
	tr.arrive("a", "run", 0, ms(95)) // and another
	tr.arrive("b", "run", 0, ms(61))
	tr.arrive("d", "run", 0, ms(25))      // before its 202 was read: early, latency -5 ms
	tr.arrive("x", "run", 0, ms(70))      // its 202 never came back: unmatched
	tr.arrive("old", "earlier", 0, ms(1)) // another run's: stale
	tr.accept("a", ms(500), ms(500))      // the same id again changes nothing

	got := tr.tally()
	if got.accepted != 4 || got.delivered != 3 || got.lost != 1 || got.dups != 2 || got.stale != 1 || got.unmatched != 1 || got.early != 1 {
		t.Fatalf("tally = %+v", got)
	}
	if !slices.Equal(got.lostIDs, []string{"c"}) {
		t.Errorf("lost ids = %v, want [c]", got.lostIDs)
	}
	wantLat := []time.Duration{ms(-5), ms(30), ms(50)}
	if !slices.Equal(got.latencies, wantLat) {
		t.Errorf("latencies = %v, want %v (first arrival only, duplicates ignored)", got.latencies, wantLat)
	}
	// POST to arrival is never negative: d's is 5 ms.
	wantPost := []time.Duration{ms(5), ms(30), ms(50)}
	if !slices.Equal(got.postLat, wantPost) {
		t.Errorf("POST→arrival = %v, want %v", got.postLat, wantPost)
	}
	wantArr := []time.Duration{ms(25), ms(40), ms(61)}
	if !slices.Equal(got.arrivals, wantArr) {
		t.Errorf("arrivals = %v, want %v", got.arrivals, wantArr)
	}
	if got.lastAccept != ms(30) {
		t.Errorf("last accept = %v", got.lastAccept)
	}
	select {
	case <-tr.done:
		t.Fatal("done before sending finished")
	default:
	}
	tr.finishSending()
	select {
	case <-tr.done:
		t.Fatal("done although c never arrived")
	default:
	}
	tr.arrive("c", "run", 0, ms(700))
	select {
	case <-tr.done:
	default:
		t.Fatal("not done once every accepted event arrived")
	}
	if got := tr.tally(); got.lost != 0 || got.delivered != 4 {
		t.Errorf("after c arrived: %+v", got)
	}
}

func TestTrackerSeveralPaths(t *testing.T) {
	tr := newTracker(time.Now(), "run", []string{"/global", "/domain/1"})
	if tr.pathIndex("/domain/1") != 1 || tr.pathIndex("/global") != 0 || tr.pathIndex("/") != -1 {
		t.Fatal("pathIndex")
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tr.accept("a", ms(0), ms(0))
	tr.accept("b", ms(0), ms(0))
	tr.arrive("a", "run", 0, ms(10))
	tr.arrive("a", "run", 1, ms(20))
	tr.arrive("b", "run", 1, ms(30)) // b never reaches /global
	tr.arrive("b", "run", 1, ms(31)) // a duplicate at /domain/1
	tr.finishSending()
	select {
	case <-tr.done:
		t.Fatal("done although b has not reached /global")
	default:
	}
	got := tr.tally()
	if got.delivered != 3 || got.lost != 1 || got.dups != 1 {
		t.Fatalf("tally = %+v", got)
	}
	g, d := got.perPath[0], got.perPath[1]
	if g.path != "/global" || g.delivered != 1 || g.lost != 1 || d.path != "/domain/1" || d.delivered != 2 || d.lost != 0 {
		t.Errorf("per path = %+v", got.perPath)
	}
	if !slices.Equal(d.latencies, []time.Duration{ms(20), ms(30)}) {
		t.Errorf("/domain/1 latencies = %v", d.latencies)
	}
	tr.arrive("b", "run", 0, ms(40))
	select {
	case <-tr.done:
	default:
		t.Fatal("not done once b reached both paths")
	}
}

func TestTrackerDoneWithNothingAccepted(t *testing.T) {
	tr := newTracker(time.Now(), "run", nil)
	tr.finishSending()
	select {
	case <-tr.done:
	default:
		t.Fatal("a run that accepted nothing has nothing to wait for")
	}
}

func TestTrackerConcurrent(t *testing.T) {
	// Accepts and arrivals from many goroutines, in either order: every
	// event is delivered once, none lost (run with -race).
	tr := newTracker(time.Now(), "run", nil)
	const n = 2000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "ev-" + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
	}
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < n; i += 4 {
				if i%2 == 0 {
					tr.accept(ids[i], tr.since(), tr.since())
					tr.arrive(ids[i], "run", 0, tr.since())
				} else {
					tr.arrive(ids[i], "run", 0, tr.since())
					tr.accept(ids[i], tr.since(), tr.since())
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	tr.finishSending()
	<-tr.done
	if got := tr.tally(); got.delivered != n || got.lost != 0 || got.dups != 0 {
		t.Fatalf("tally = delivered %d lost %d dups %d", got.delivered, got.lost, got.dups)
	}
}

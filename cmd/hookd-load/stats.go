package main

import (
	"math"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p % of the values
// at or below it. It is a value that was measured, never an interpolation.
// An empty slice gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// steadyRate is the arrival rate over the middle 80 % of arrivals: with the
// arrival times sorted, lo the arrival at the 10th percentile and hi the one
// at the 90th (by index: n/10 and n-1-n/10), it is the arrivals after lo up
// to hi divided by the time between them. Ramp-up (the first 10 %) and the
// tail (the last 10 %, often a few stragglers or retries) are left out.
//
// Fewer than 10 arrivals use them all; fewer than 2, or all at one instant,
// give rate 0.
type steady struct {
	rate   float64       // arrivals per second
	count  int           // arrivals counted (after t10, up to t90)
	t10    time.Duration // since the start of the run
	t90    time.Duration
	window time.Duration // t90 - t10
}

func steadyRate(sorted []time.Duration) steady {
	n := len(sorted)
	if n < 2 {
		return steady{}
	}
	lo, hi := n/10, n-1-n/10
	s := steady{count: hi - lo, t10: sorted[lo], t90: sorted[hi]}
	s.window = s.t90 - s.t10
	if s.window > 0 {
		s.rate = float64(s.count) / s.window.Seconds()
	}
	return s
}

// rate is count per second of d; 0 when d is not positive.
func rate(count int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(count) / d.Seconds()
}

package main

import (
	"os"
	"runtime/debug"
)

// daemonGCPercent is the garbage collector's target the daemon runs with
// when the operator has not chosen one.
//
// A busy node's live heap is ~5 MB, so Go's default (GOGC=100) collects
// every ~5 MB allocated: 115 cycles per 20,000 deliveries, ~8 % of a
// delivery's CPU (docs/benchmarks.md, issue 19). 200 halves the cycles for
// ~6 MB more heap; 400 would cost ~20 MB and break the 64 MB budget of a
// node at 200 events/s. hookd embedded in a proxy leaves the GC to the
// proxy: only `hookd serve` sets it.
const daemonGCPercent = 200

// tuneGC sets daemonGCPercent unless the GOGC environment variable is set:
// an operator's GOGC (and GOMEMLIMIT, which Go applies on its own) wins.
// It returns the percent in force, for the start line of the log.
func tuneGC() int {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(daemonGCPercent)
	return daemonGCPercent
}

package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: serve sets GOGC=200 unless the operator set GOGC, whose
// value then stays in force.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", daemonGCPercent},
		{"150", 150},
		{"off", -1},
	} {
		if tc.env == "" {
			t.Setenv("GOGC", "")
			debug.SetGCPercent(100)
		} else {
			t.Setenv("GOGC", tc.env)
			// Go reads GOGC at start; a set variable means the
			// percent in force is the operator's.
			if tc.env == "off" {
				debug.SetGCPercent(-1)
			} else {
				debug.SetGCPercent(150)
			}
		}
		if got := tuneGC(); got != tc.want {
			t.Errorf("GOGC=%q: tuneGC() = %d, want %d", tc.env, got, tc.want)
		}
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("GOGC=%q: percent in force %d, want %d", tc.env, got, tc.want)
		}
	}
}

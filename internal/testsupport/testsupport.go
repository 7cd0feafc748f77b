// Package testsupport holds the switches of hookd's test suite: the long
// soak cases run only under `make test-long` (HOOKD_TEST_LONG=1), and
// what needs a built binary, a browser or a long wait is skipped under
// -short (`make test-short`, the edit loop); and two small helpers every
// package's tests share: [LogBuffer], a log sink to read and wait on, and
// [Send], a request and its whole answer. It imports nothing of hookd,
// so that any package's tests can use it; teststore, beside it, gives
// tests a migrated store, and testruntime a running runtime.
//
//	func TestSoak(t *testing.T) {
//		testsupport.Long(t, "1,000 reloads under load")
//		…
//	}
package testsupport

import (
	"os"
	"testing"
)

// EnvLong names the variable that runs the long soak cases: `make
// test-long` sets it, and CI runs `make test-long` once.
const EnvLong = "HOOKD_TEST_LONG"

// Long skips t unless HOOKD_TEST_LONG=1, saying what the case soaks and
// how to run it. A long case is one whose property needs sustained load
// or a long span of time, and which cannot be made fast without changing
// what it checks.
func Long(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(EnvLong) != "1" {
		t.Skipf("a long soak case (%s): run it with %s=1 (make test-long)", what, EnvLong)
	}
}

// Short skips t under -short (`make test-short`, the edit loop), saying
// what it needs that the edit loop goes without: a built daemon binary, a
// browser, a long wait.
func Short(t testing.TB, needs string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: this test needs %s; make test runs it", needs)
	}
}

// LongRun reports whether the long soak cases run (HOOKD_TEST_LONG=1).
// A soak with a shorter form that still checks its property (a leak of
// every reload shows in 200 reloads as in 1,000) runs the full length
// only then.
func LongRun() bool { return os.Getenv(EnvLong) == "1" }

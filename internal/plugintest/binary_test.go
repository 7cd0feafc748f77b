package plugintest

import (
	"os"
	"os/exec"
	"testing"
)

// TestBinaryBuildsOnceAndRuns: Binary builds a runnable program, and a
// second build of unchanged sources (another test binary's) leaves the
// executable alone instead of relinking it.
func TestBinaryBuildsOnceAndRuns(t *testing.T) {
	t.Parallel()
	const pkg = "github.com/hookrt/hookd/examples/jwt-receiver"
	exe := Binary(t, pkg)
	before, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	if again := Binary(t, pkg); again != exe {
		t.Errorf("a second call returned %s, not %s", again, exe)
	}
	if again, err := goBuildBinary(pkg); err != nil || again != exe {
		t.Fatalf("another test binary's build: %s, %v", again, err)
	}
	after, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) { // go build touches an up-to-date file, and renames a new one into place
		t.Errorf("unchanged sources relinked %s", exe)
	}
	if out, err := exec.Command(exe, "-h").CombinedOutput(); len(out) == 0 {
		t.Errorf("%s -h said nothing (%v)", exe, err)
	}
}

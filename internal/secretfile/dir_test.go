package secretfile_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hookrt/hookd/internal/secretfile"
)

// TestOpenDir: the private directory opens as a root; a missing one is
// named once and matches fs.ErrNotExist.
func TestOpenDir(t *testing.T) {
	t.Parallel()
	root, err := secretfile.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root.Close()
	missing := filepath.Join(t.TempDir(), "nope")
	_, err = secretfile.OpenDir(missing)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "private directory "+missing+" does not exist" {
		t.Errorf("OpenDir(missing) = %v; want %q", err, "private directory "+missing+" does not exist")
	}
}

// TestExposed: group or others may read or enter: exposed; the owner
// only: not (on Windows nothing is).
func TestExposed(t *testing.T) {
	t.Parallel()
	for m, want := range map[fs.FileMode]bool{0o600: false, 0o400: false, 0o700: false, 0o640: true, 0o604: true, 0o610: true, 0o644: true} {
		if runtime.GOOS == "windows" {
			want = false
		}
		if got := secretfile.Exposed(m); got != want {
			t.Errorf("Exposed(%04o) = %v; want %v", m, got, want)
		}
	}
}

//go:build unix

package secretfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hookrt/hookd/internal/secretfile"
)

// TestReadFileFIFO: a FIFO is refused from its metadata, before it is
// opened (opening one waits for a writer: a config naming one would hang
// the start). A link to it inside the directory is refused alike.
func TestReadFileFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, name := range []string{"pipe", "link"} {
		if name == "link" {
			if err := syscall.Symlink("pipe", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
		}
		_, err := secretfile.ReadFile(dir, name, secretfile.Rule{Max: 64, Secret: true, What: "PEM"})
		want := filepath.Join(dir, name) + " is not a regular file (p---------): only regular files are read"
		if err == nil || err.Error() != want || !errors.Is(err, secretfile.ErrUnsafe) {
			t.Errorf("ReadFile(%s) = %v; want %q", name, err, want)
		}
	}
}

// TestReadFileUnreadable: a file hookd may not reach is named once, with
// the system's reason, and is neither missing nor refused by the rule.
func TestReadFileUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "closed"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "closed", "k.pem"), []byte("KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "closed"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "closed"), 0o700) })
	_, err := secretfile.ReadFile(dir, "closed/k.pem", secretfile.Rule{Max: 64, Secret: true, What: "PEM"})
	want := filepath.Join(dir, "closed", "k.pem") + ": permission denied"
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) || errors.Is(err, secretfile.ErrUnsafe) {
		t.Errorf("ReadFile = %v; want %q, matching fs.ErrPermission", err, want)
	}
}

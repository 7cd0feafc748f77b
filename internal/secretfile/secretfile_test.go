package secretfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/secretfile"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want, err     string
	}{
		{"token", "s3cret\n", 0o600, "s3cret", ""},
		{"dsn", "  host=db user=hookd password=x  \n", 0o400, "host=db user=hookd password=x", ""},
		{"open", "s3cret", 0o644, "", "is readable by group or others (mode 0644); chmod 600 it"},
		{"group", "s3cret", 0o640, "", "is readable by group or others (mode 0640)"},
		{"empty", " \n", 0o600, "", "must hold one line, got 0 bytes"},
		{"two-lines", "a\nb\n", 0o600, "", "must hold one line, got 3 bytes"},
		{"large", strings.Repeat("x", 1025), 0o600, "", "is larger than 1 KiB; it should hold one line"},
		{"just-fits", strings.Repeat("x", 1024), 0o600, strings.Repeat("x", 1024), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tc.mode&0o077 != 0 {
				t.Skip("modes do not say who may read on Windows")
			}
			got, err := secretfile.Read(write(tc.name, tc.content, tc.mode), 1024, "one line")
			switch {
			case tc.err == "" && (err != nil || got != tc.want):
				t.Errorf("Read = %q, %v; want %q", got, err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("Read error %v, want it to say %q", err, tc.err)
			case err != nil && strings.Contains(err.Error(), tc.content) && tc.content != "":
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	missing := filepath.Join(dir, "missing")
	if _, err := secretfile.Read(missing, 1024, "one line"); !errors.Is(err, fs.ErrNotExist) || err.Error() != missing+" does not exist" {
		t.Errorf("missing file: %v, want %q, matching fs.ErrNotExist", err, missing+" does not exist")
	}
}

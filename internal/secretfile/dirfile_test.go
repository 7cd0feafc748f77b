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

// privateDir is a private directory laid out as a Kubernetes secret volume
// mounts one (key.pem -> ..data/key.pem, ..data -> the revision's
// directory), beside plain files and links that break the rule.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	outside := t.TempDir() // a sibling: "../002" from dir
	write := func(d, name, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(d, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skip("no symlinks here:", err)
		}
	}
	write(dir, "..2026_12_06_19_00_00.1/key.pem", "KEY\n", 0o400)
	write(dir, "..2026_12_06_19_00_00.1/ca.pem", "CA\n", 0o644)
	write(dir, "..2026_12_06_19_00_00.1/open.pem", "OPEN\n", 0o644)
	link("..2026_12_06_19_00_00.1", "..data")
	link("..data/key.pem", "key.pem")
	link("..data/ca.pem", "ca.pem")
	link("..data/open.pem", "open.pem")
	write(dir, "plain.txt", "  s3cret\n", 0o600)
	write(dir, "two.txt", "a\nb\n", 0o600)
	write(dir, "blank.txt", " \n", 0o600)
	write(dir, "big.txt", strings.Repeat("x", 65), 0o600)
	write(dir, "x.txt", "", 0o600)
	if err := os.Truncate(filepath.Join(dir, "x.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(outside, "leak.txt", "LEAK\n", 0o600)
	link(filepath.Join("..", filepath.Base(outside), "leak.txt"), "out.txt")
	link(filepath.Join("..", filepath.Base(outside)), "outdir")
	link(filepath.Join(dir, "plain.txt"), "abs.txt")
	link("/etc/hostname", "etc.txt")
	link("gone.txt", "dangling.txt")
	link("out.txt", "via.txt") // a link to a link that leads out
	return dir
}

// TestReadFile: the private directory's one rule, as jwtsign and delivery
// apply it: links that resolve inside are followed (a Kubernetes secret
// volume), links out and absolute links are refused naming the link, and
// the mode of the file the links lead to counts.
func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := privateDir(t)
	in := func(name string) string { return filepath.Join(dir, name) }
	secret := secretfile.Rule{Max: 64, Secret: true, What: "a PEM private key"}
	public := secretfile.Rule{Max: 64, What: "PEM"}
	for _, tc := range []struct {
		name string
		rule secretfile.Rule
		want string // the content, or the error with "ERR: "
	}{
		{"key.pem", secret, "KEY\n"},
		{"..data/key.pem", secret, "KEY\n"},
		{"./sub/../key.pem", secret, "KEY\n"},
		{"ca.pem", public, "CA\n"},
		{"plain.txt", secret, "  s3cret\n"},
		{"open.pem", secret, "ERR: " + in("open.pem") + " is readable by group or others (mode 0644); chmod 600 it"},
		{"out.txt", secret, "ERR: " + in("out.txt") + " is a symlink that leads out of the private directory (to ../"},
		{"outdir/leak.txt", secret, "ERR: " + in("outdir/leak.txt") + ": " + in("outdir") + " is a symlink that leads out of the private directory (to ../"},
		{"via.txt", secret, "ERR: " + in("via.txt") + " is a symlink that leads out of the private directory (to out.txt -> ../"},
		{"etc.txt", public, "ERR: " + in("etc.txt") + " is a symlink that leads out of the private directory (to /etc/hostname): put the file itself (or a link within the directory) there"},
		{"abs.txt", secret, "ERR: " + in("abs.txt") + " is a symlink to an absolute path (" + in("plain.txt") + "): a link in the private directory must be relative (as Kubernetes makes them)"},
		{"dangling.txt", secret, "ERR: " + in("dangling.txt") + " does not exist"},
		{"gone.txt", secret, "ERR: " + in("gone.txt") + " does not exist"},
		{"sub", secret, "ERR: " + in("sub") + " is a directory: name a file in it"},
		{"..data", public, "ERR: " + in("..data") + " is a directory: name a file in it"},
		{"x.txt", secret, "ERR: " + in("x.txt") + " is empty; it should hold a PEM private key"},
		{"blank.txt", secret, "ERR: " + in("blank.txt") + " is empty; it should hold a PEM private key"},
		{"big.txt", secret, "ERR: " + in("big.txt") + " is larger than 64 bytes; it should hold a PEM private key"},
		{"../x.txt", secret, `ERR: file "../x.txt" leaves the private directory: ".." is not allowed`},
		{in("plain.txt"), secret, `ERR: file "` + in("plain.txt") + `" is absolute: a name relative to the private directory is allowed`},
		{".", secret, `ERR: file "." is the private directory itself: name a file in it`},
		{"", secret, "ERR: an empty file name is not allowed: name a file in the private directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(tc.want, "mode") {
				t.Skip("modes do not say who may read on Windows")
			}
			b, err := secretfile.ReadFile(dir, tc.name, tc.rule)
			want, refused := strings.CutPrefix(tc.want, "ERR: ")
			switch {
			case !refused && (err != nil || string(b) != want):
				t.Errorf("ReadFile = %q, %v; want %q", b, err, want)
			case refused && (err == nil || !strings.HasPrefix(err.Error(), want)):
				t.Errorf("ReadFile = %q, %v;\nwant an error starting %q", b, err, want)
			case refused && strings.HasSuffix(want, "does not exist"):
				if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, secretfile.ErrUnsafe) {
					t.Errorf("error %v: want it to match fs.ErrNotExist, not ErrUnsafe", err)
				}
			case refused && !errors.Is(err, secretfile.ErrUnsafe):
				t.Errorf("error %v: want it to match ErrUnsafe", err)
			case err != nil && (strings.Contains(err.Error(), "KEY") || strings.Contains(err.Error(), "LEAK") || strings.Contains(err.Error(), "s3cret")):
				t.Errorf("error %q shows the content", err)
			}
		})
	}
	missing := filepath.Join(dir, "nope")
	if _, err := secretfile.ReadFile(missing, "key.pem", secret); !errors.Is(err, fs.ErrNotExist) || err.Error() != "private directory "+missing+" does not exist" {
		t.Errorf("missing directory: %v", err)
	}
}

// TestReadLine: a one-line secret, trimmed, through the same rule.
func TestReadLine(t *testing.T) {
	t.Parallel()
	dir := privateDir(t)
	if got, err := secretfile.ReadLine(dir, "plain.txt", 64, "one token"); err != nil || got != "s3cret" {
		t.Errorf("ReadLine(plain.txt) = %q, %v; want s3cret", got, err)
	}
	if got, err := secretfile.ReadLine(dir, "..data/key.pem", 64, "one token"); err != nil || got != "KEY" {
		t.Errorf("ReadLine through the links = %q, %v; want KEY", got, err)
	}
	want := filepath.Join(dir, "two.txt") + " must hold one token on one line, got 2 lines"
	if _, err := secretfile.ReadLine(dir, "two.txt", 64, "one token"); err == nil || err.Error() != want || !errors.Is(err, secretfile.ErrUnsafe) {
		t.Errorf("ReadLine(two.txt) = %v; want %q", err, want)
	}
	if runtime.GOOS != "windows" {
		if _, err := secretfile.ReadLine(dir, "ca.pem", 64, "one token"); err == nil || !strings.Contains(err.Error(), "is readable by group or others (mode 0644)") {
			t.Errorf("ReadLine of a file others may read: %v; want it refused", err)
		}
	}
}

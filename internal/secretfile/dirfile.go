package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The private directory (storage.private_dir) holds the files a config
// names by a relative name: the JWT webhook's and plugins' signing keys
// (internal/jwtsign), a target's header values, signing secrets, v1a key
// and TLS files (internal/delivery). They are all read by [ReadFile]
// under one rule:
//
//   - the name is relative and stays inside the directory ([CheckName]);
//   - a symlink is followed when it resolves inside the directory (a
//     Kubernetes secret volume is made of them: key.pem -> ..data/key.pem,
//     ..data -> ..2026_12_06_19_00_00.123); one leading out of it, or an
//     absolute one, is refused, so that a config cannot point hookd at
//     another file;
//   - only a regular file is read, of at most a known size;
//   - a secret (a key, a token) must give group and others nothing, after
//     the links are followed: the mode of the file itself counts, not the
//     link's.

// ErrUnsafe is wrapped by every refusal of [ReadFile] and [CheckName]: a
// name or a file the rule does not allow, which the operator must fix (as
// opposed to a missing file, which matches [fs.ErrNotExist], or an I/O
// error).
var ErrUnsafe = errors.New("file refused by the private directory's rule")

// refusal is a complete message for the operator that matches ErrUnsafe.
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) Unwrap() error   { return ErrUnsafe }

func refuse(format string, args ...any) error { return refusal(fmt.Sprintf(format, args...)) }

// CheckName refuses names that do not denote a file inside the private
// directory: empty, absolute, the directory itself, or climbing out with
// "..". It does no I/O (Validate and `hookd check` call it on a config).
func CheckName(name string) error {
	switch {
	case name == "":
		return refuse("an empty file name is not allowed: name a file in the private directory")
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`):
		return refuse("file %q is absolute: a name relative to the private directory is allowed", name)
	case filepath.Clean(name) == ".":
		return refuse("file %q is the private directory itself: name a file in it", name)
	case !filepath.IsLocal(name):
		return refuse("file %q leaves the private directory: \"..\" is not allowed", name)
	}
	return nil
}

// Rule says what a file of the private directory must be, besides what
// every one must be (see the package's rule above).
type Rule struct {
	// Max is the most bytes the file may hold.
	Max int64
	// Secret refuses the file when group or others may read or enter it
	// ([Exposed]): keys, tokens, signing secrets. Certificates and CAs
	// are public and leave it false.
	Secret bool
	// What the file should hold, for errors: "a PEM private key", "PEM".
	What string
}

// ReadFile reads the file name of the private directory dir under the
// directory's rule and r. Errors name the file as dir/name and say what is
// allowed; the content is never in them. A refusal matches [ErrUnsafe], a
// missing file or directory [fs.ErrNotExist].
//
//	pem, err := secretfile.ReadFile(cfg.Storage.PrivateDir, "swh.pem", secretfile.Rule{Max: 64 << 10, Secret: true, What: "a PEM private key"})
//
// # Notes
//
//   - The file is checked before it is opened, so that a FIFO or a device
//     is refused rather than opened (opening a FIFO blocks), and what is
//     opened is compared with what was checked ([os.SameFile]): swapping
//     the file in between cannot smuggle another one in. Both go through
//     an [os.Root] of dir, which is what keeps links inside it.
//   - Empty means nothing but white space: such a file is refused.
func ReadFile(dir, name string, r Rule) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	shown := filepath.Join(dir, name)
	name = filepath.Clean(name) // "keys/../k.pem" is "k.pem" from here on
	root, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	checked, err := root.Stat(name)
	if err != nil {
		return nil, statError(root, dir, name, shown, err)
	}
	if err := r.check(checked, shown); err != nil {
		return nil, err
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, statError(root, dir, name, shown, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	if !os.SameFile(checked, opened) {
		return nil, refuse("%s was replaced while it was being opened; try again", shown)
	}
	b, err := io.ReadAll(io.LimitReader(f, r.Max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	if int64(len(b)) > r.Max { // it grew since the check
		return nil, r.tooLarge(shown)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, refuse("%s is empty; it should hold %s", shown, r.What)
	}
	return b, nil
}

// ReadLine reads a file of the private directory that holds one secret
// line (a header value, a signing secret): ReadFile with Secret set, then
// the line without surrounding white space (the trailing newline). what
// says what the line is, for errors: "one signing secret (whsec_ + base64)".
func ReadLine(dir, name string, max int64, what string) (string, error) {
	b, err := ReadFile(dir, name, Rule{Max: max, Secret: true, What: what})
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if strings.ContainsAny(s, "\r\n") {
		return "", refuse("%s must hold %s on one line, got %d lines", filepath.Join(dir, name), what, strings.Count(s, "\n")+1)
	}
	return s, nil
}

// check applies the rule to what the file's metadata says.
func (r Rule) check(fi fs.FileInfo, shown string) error {
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		return refuse("%s is a directory: name a file in it", shown)
	case !mode.IsRegular():
		return refuse("%s is not a regular file (%s): only regular files are read", shown, mode.Type())
	case r.Secret && Exposed(mode):
		what := "readable"
		if mode.Perm()&0o044 == 0 {
			what = "accessible"
		}
		return refuse("%s is %s by group or others (mode %04o); chmod 600 it", shown, what, mode.Perm())
	case fi.Size() > r.Max:
		return r.tooLarge(shown)
	case fi.Size() == 0:
		return refuse("%s is empty; it should hold %s", shown, r.What)
	}
	return nil
}

func (r Rule) tooLarge(shown string) error {
	return refuse("%s is larger than %s; it should hold %s", shown, size(int(r.Max)), r.What)
}

// statError words an error of root.Stat or root.Open of name: a missing
// file once ("DIR/NAME does not exist"), and a link that leads out of the
// directory as such, naming the link (the file's own name or a directory
// on the way), since os.Root only says "path escapes from parent".
func statError(root *os.Root, dir, name, shown string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return NotExist(shown)
	}
	if link := escapingLink(root, name); link != "" {
		at := shown + " is a symlink"
		if link != name {
			at = shown + ": " + filepath.Join(dir, link) + " is a symlink"
		}
		hops := linkChain(root, link)
		if len(hops) == 0 {
			return refuse("%s that leads out of the private directory: put the file itself (or a link within the directory) there", at)
		}
		to, last := strings.Join(hops, " -> "), hops[len(hops)-1]
		if abs, err := filepath.Abs(dir); err == nil && filepath.IsAbs(last) {
			if rel, err := filepath.Rel(abs, last); err == nil && filepath.IsLocal(rel) {
				return refuse("%s to an absolute path (%s): a link in the private directory must be relative (as Kubernetes makes them)", at, to)
			}
		}
		return refuse("%s that leads out of the private directory (to %s): put the file itself (or a link within the directory) there", at, to)
	}
	if pe, ok := errors.AsType[*fs.PathError](err); ok { // "statat k.pem: permission denied" names the file twice
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", shown, err)
}

// escapingLink returns the first element of name (a clean relative path)
// that is a symlink which cannot be followed inside root, or "".
func escapingLink(root *os.Root, name string) string {
	parts := strings.Split(filepath.ToSlash(name), "/")
	for i := range parts {
		p := filepath.Join(parts[:i+1]...)
		fi, err := root.Lstat(p)
		if err != nil {
			return ""
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := root.Stat(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return ""
}

// linkChain says where the link at name leads, for an error: its target,
// then the targets of the links inside the directory it leads through
// ([b ../x] for a -> b -> ../x), at most a few; nil when it cannot be read.
func linkChain(root *os.Root, name string) []string {
	var hops []string
	for range 8 {
		to, err := root.Readlink(name)
		if err != nil {
			break
		}
		hops = append(hops, to)
		next := filepath.Join(filepath.Dir(name), to)
		if filepath.IsAbs(to) || !filepath.IsLocal(next) {
			break
		}
		if fi, err := root.Lstat(next); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		name = next
	}
	return hops
}

// Package secretfile reads files that hold one secret: the API's bearer
// token (server.token_file, the client's -token-file) and the PostgreSQL
// DSN (store.dsn_file). Such a file is small, holds one line, and only its
// owner may read it, as hookd requires of key files (internal/jwtsign):
// a secret that group or others can read is refused rather than used, so
// that a mistake in a deployment shows at start, not in an audit.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Read returns the secret the file at path holds: its content without
// surrounding white space, which must be one non-empty line of at most max
// bytes. A file that group or others may read is refused (on Windows,
// where modes do not say that, it is not). Errors name the file and what
// it should hold (what: "one line", "one token"); the secret is never in
// them.
func Read(path string, max int, what string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", notExist(path)
	} else if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return "", fmt.Errorf("cannot %s %s: %w", pe.Op, path, pe.Err)
	} else if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if Exposed(fi.Mode()) {
		return "", fmt.Errorf("%s is readable by group or others (mode %04o); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return "", err
	}
	if len(b) > max {
		return "", fmt.Errorf("%s is larger than %s; it should hold %s", path, size(max), what)
	}
	s := strings.TrimSpace(string(b))
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%s must hold %s, got %d bytes", path, what, len(s))
	}
	return s, nil
}

// size says n bytes in KiB when it is a whole number of them.
func size(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// notExist is the error of a missing file: "PATH does not exist", once
// (an *fs.PathError would say "open PATH: no such file or directory",
// and wrapping fs.ErrNotExist with %w would add "file does not exist"),
// and errors.Is(err, fs.ErrNotExist) holds.
type notExist string

// NotExist is the error of a missing thing, named once: NotExist("key file
// \"k.pem\"") says `key file "k.pem" does not exist` and matches
// fs.ErrNotExist.
func NotExist(what string) error { return notExist(what) }

func (e notExist) Error() string { return string(e) + " does not exist" }
func (notExist) Unwrap() error   { return fs.ErrNotExist }

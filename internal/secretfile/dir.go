package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// Exposed reports whether a file of mode m is readable or accessible by
// group or others: a secret in such a file is refused, whichever file
// holds it (a token, a DSN, a signing or TLS key). On Windows, whose
// modes do not describe the ACLs that protect a file, nothing is.
func Exposed(m fs.FileMode) bool {
	return m.Perm()&0o077 != 0 && runtime.GOOS != "windows"
}

// OpenDir opens the private directory dir, in which the files a config
// names by a relative name are looked up, as an [os.Root]: what is opened
// through it stays inside. A missing directory is [NotExist]
// ("private directory DIR does not exist").
func OpenDir(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, NotExist("private directory " + dir)
	} else if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return nil, fmt.Errorf("private directory %s: cannot %s: %w", dir, pe.Op, pe.Err)
	} else if err != nil {
		return nil, fmt.Errorf("private directory %s: %w", dir, err)
	}
	return root, nil
}

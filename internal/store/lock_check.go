package store

import (
	"errors"
	"io/fs"
	"os"
)

// CheckLock reports whether the SQLite store at path is in use by a
// running hookd, without creating anything: it takes the lock OpenSQLite
// takes and lets it go again, and fails with OpenSQLite's message, so that
// `hookd check` refuses a locked file as `hookd serve` does. A store
// whose lock file does not exist yet is not in use.
func CheckLock(path string) error {
	lp := path + ".lock"
	if _, err := os.Stat(lp); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	f, err := lockFile(lp)
	if err != nil {
		return err
	}
	return f.Close()
}

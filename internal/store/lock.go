package store

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInUse is what an open of a SQLite store another process holds fails
// with (errors.Is).
var ErrInUse = errors.New("in use by another hookd process")

// inUse is the error of a lock held by another process: it names the
// store's file (lockPath without ".lock"), not the errno of the lock
// call, which says nothing more.
func inUse(lockPath string, _ error) error {
	return fmt.Errorf("%s is %w (one process per SQLite file; stop the other one, or use PostgreSQL for several nodes)",
		strings.TrimSuffix(lockPath, ".lock"), ErrInUse)
}

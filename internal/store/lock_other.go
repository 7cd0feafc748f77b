//go:build !unix && !windows

package store

import (
	"fmt"
	"os"
	"runtime"
)

// lockFile refuses: without a lock that ends with the process, two hookd
// processes could share a SQLite file, and the orphaned jobs released at
// start (ReleaseOrphanedJobs) could be another process's running ones.
func lockFile(path string) (*os.File, error) {
	return nil, fmt.Errorf("store: cannot lock %s: SQLite stores need file locking, which hookd has only on Unix and Windows, not %s; use PostgreSQL", path, runtime.GOOS)
}

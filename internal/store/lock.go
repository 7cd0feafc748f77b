package store

import "fmt"

// inUse is the error of a lock held by another process.
func inUse(path string, err error) error {
	return fmt.Errorf("store: %s is in use by another hookd process (one process per SQLite file; use PostgreSQL for several nodes): %w", path, err)
}

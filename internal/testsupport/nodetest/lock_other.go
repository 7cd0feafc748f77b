//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package nodetest

// Without flock, test binaries do not coordinate: each may run npm ci into
// its own temporary directory and rename it into place (see install).
func lockFile(string) (func(), error) { return func() {}, nil }

func checkPrivate(string) error { return nil }

//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package plugintest

// canLock: without flock, each test binary keeps a cache of its own.
const canLock = false

func lockFile(string) (func(), error) { return nil, ErrNoLock }

func checkPrivate(string) error { return ErrNoLock }

//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package filelock

const supported = false

func lock(string) (func(), error) { return nil, ErrNoLock }

func checkPrivate(string) error { return ErrNoLock }

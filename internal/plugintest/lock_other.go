//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package plugintest

import "errors"

// canLock: without flock, each test binary keeps a cache of its own.
const canLock = false

var errNoLock = errors.New("plugintest: no file locks on this system")

func lockFile(string) (func(), error) { return nil, errNoLock }

func checkPrivate(string) error { return errNoLock }

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package wasmhost

import (
	"errors"
	"os"
	"syscall"
)

// canLock: this system has flock, so processes sharing a cache directory
// can tell which entries are in use, and Prune can run.
const canLock = true

// lockShared takes a shared flock on f, waiting for it (a pruner holds
// the exclusive lock only while it removes the entry). Closing f releases
// it, as does the end of the process, however it ends.
func lockShared(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// tryLockExclusive takes an exclusive flock on f if nobody holds any lock
// on it, without waiting.
func tryLockExclusive(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, syscall.EINTR):
			return false, err
		}
	}
}

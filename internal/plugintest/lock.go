package plugintest

import "github.com/hookrt/hookd/internal/testsupport/filelock"

// ErrNoLock is the error of [LockFile] and [CheckPrivate] on a system
// without flock.
var ErrNoLock = filelock.ErrNoLock

// canLock: this system has flock, so test binaries can share the cache;
// without it, each test binary keeps a cache of its own.
const canLock = filelock.Supported

// LockFile is [filelock.Lock]: an exclusive flock on the file at path,
// waiting for it; [ErrNoLock] on a system without flock.
func LockFile(path string) (unlock func(), err error) { return filelock.Lock(path) }

// CheckPrivate is [filelock.CheckPrivate]: dir is a directory of this user
// that nobody else can write to; [ErrNoLock] on a system without flock.
func CheckPrivate(dir string) error { return filelock.CheckPrivate(dir) }

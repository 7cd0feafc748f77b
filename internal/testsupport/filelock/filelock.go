// Package filelock is the one file lock of the test caches that test
// binaries share under the user's temporary directory
// ($TMPDIR/hookd-test-<uid>/): internal/plugintest's compiled plugins and
// the npm installations of internal/testsupport/npmcache (the Standard
// Webhooks libraries, the AssemblyScript compiler). It is a package of its
// own, with nothing but the standard library, so that a test that only
// installs an npm project does not link wazero through plugintest.
package filelock

import "errors"

// ErrNoLock is the error of [Lock] and [CheckPrivate] on a system without
// flock, where test binaries cannot share a cache safely.
var ErrNoLock = errors.New("filelock: no file locks on this system")

// Supported reports whether this system has flock, so that test binaries
// can share a cache.
const Supported = supported

// Lock takes an exclusive flock on the file at path (created if missing),
// waiting for it: one test binary fills a cache entry, the others wait.
// unlock releases it, as does the end of the process however it ends. On a
// system without flock it returns [ErrNoLock].
func Lock(path string) (unlock func(), err error) { return lock(path) }

// CheckPrivate checks that dir is a directory (not a symlink) owned by
// this user that nobody else can write to, tightening the mode of one of
// ours that is too open; [ErrNoLock] on a system without flock, where the
// cache is not shared.
func CheckPrivate(dir string) error { return checkPrivate(dir) }

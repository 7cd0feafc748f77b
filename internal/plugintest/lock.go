package plugintest

import "errors"

// ErrNoLock is the error of [LockFile] and [CheckPrivate] on a system
// without flock.
var ErrNoLock = errors.New("plugintest: no file locks on this system")

// LockFile takes an exclusive flock on the file at path (created if
// missing), waiting for it; unlock releases it, as does the end of the
// process however it ends. Test helpers that keep caches of their own
// under the user's temporary directory (the AssemblyScript compiler of
// plugins/pdk-as) share them between test binaries with it. On a system
// without flock it returns [ErrNoLock].
func LockFile(path string) (unlock func(), err error) { return lockFile(path) }

// CheckPrivate checks that dir is a directory (not a symlink) owned by
// this user that nobody else can write to, tightening the mode of one of
// ours that is too open; [ErrNoLock] on a system without flock, where
// the cache is not shared.
func CheckPrivate(dir string) error { return checkPrivate(dir) }

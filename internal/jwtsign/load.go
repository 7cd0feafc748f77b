package jwtsign

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookrt/hookd/internal/secretfile"
)

// MaxKeyFileSize is the largest key file [LoadKey] reads. A PEM-encoded RSA
// 8192-bit private key is about 6.5 KiB, so anything beyond 64 KiB is not a
// key: most likely a misconfigured path pointing at a log or an archive,
// which is better refused than read into memory.
const MaxKeyFileSize = 64 << 10

// LoadKey reads the PEM private key named name inside the private directory
// dir, and prepares it to sign tokens with alg ("" picks the key's default,
// see [NewKey]).
//
//	key, err := jwtsign.LoadKey(cfg.Storage.PrivateDir, cfg.JWTWebhook.PrivateKey, "")
//
// name is resolved inside dir and must stay there: absolute names, names
// that climb out with "..", and symlinks anywhere along the way are refused.
// The file must be a regular file of at most [MaxKeyFileSize] bytes whose
// permission bits give group and others nothing (mode 0600 or 0400), the
// same rule OpenSSH applies to its private keys.
//
// # Notes
//
//   - The checks run before the content is read, so a world-readable key is
//     refused even when it is otherwise valid: the secret may already have
//     leaked, and the operator should know.
//   - The file is opened through an [os.Root] and compared with what was
//     checked ([os.SameFile]), so swapping it between the check and the read
//     cannot smuggle another file in.
//   - On Windows the permission check is skipped: its mode bits do not
//     describe the ACLs that actually protect the file.
//   - Errors name the file as dir/name and wrap [ErrUnsafeKeyFile],
//     [ErrUnsupportedKey] or [ErrUnsupportedAlg].
func LoadKey(dir, name, alg string) (*Key, error) {
	shown := filepath.Join(dir, name)
	if err := checkName(dir, name); err != nil {
		return nil, err
	}
	name = filepath.Clean(name) // "keys/../k.pem" is "k.pem" from here on
	root, err := secretfile.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	info, err := lstatNoSymlinks(root, name, shown)
	if err != nil {
		return nil, err
	}
	if err := checkFileInfo(info, shown); err != nil {
		return nil, err
	}
	data, err := readSame(root, name, shown, info)
	if err != nil {
		return nil, err
	}
	signer, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", shown, err)
	}
	key, err := NewKey(signer, alg)
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", shown, err)
	}
	return key, nil
}

// checkName refuses names that do not denote a file inside dir. os.Root
// would refuse most of them too, but with a generic "path escapes from
// parent" message; the operator deserves to know which rule was broken.
func checkName(dir, name string) error {
	switch {
	case name == "":
		return errorf(ErrUnsafeKeyFile, "key file name is empty; give a file name inside the private directory %q", dir)
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/"):
		return errorf(ErrUnsafeKeyFile, "key file name %q is absolute; give a name relative to the private directory %q", name, dir)
	case !filepath.IsLocal(name):
		return errorf(ErrUnsafeKeyFile, "key file name %q leaves the private directory %q; \"..\" is not allowed", name, dir)
	}
	return nil
}

// lstatNoSymlinks returns the Lstat of name after checking that neither it
// nor any directory on the way to it is a symlink. os.Root alone would only
// keep symlinks from escaping dir; refusing them entirely keeps the rule
// simple to state: the key is the file you see at that path.
func lstatNoSymlinks(root *os.Root, name, shown string) (fs.FileInfo, error) {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(name)), "/")
	var info fs.FileInfo
	for i := range parts {
		p := filepath.Join(parts[:i+1]...)
		var err error
		info, err = root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, secretfile.NotExist(fmt.Sprintf("key file %q", shown))
		}
		if err != nil {
			return nil, fmt.Errorf("key file %q: %w", shown, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if i == len(parts)-1 {
				return nil, errorf(ErrUnsafeKeyFile, "key file %q is a symlink; symlinks are not followed: put the key file itself in the private directory", shown)
			}
			return nil, errorf(ErrUnsafeKeyFile, "key file %q: %q is a symlink; symlinks are not followed: put the key file itself in the private directory", shown, p)
		}
	}
	return info, nil
}

// checkFileInfo applies the rules that need only the file's metadata.
func checkFileInfo(info fs.FileInfo, shown string) error {
	mode := info.Mode()
	switch {
	case mode.IsDir():
		return errorf(ErrUnsafeKeyFile, "key file %q is a directory; name a PEM file inside it", shown)
	case !mode.IsRegular():
		return errorf(ErrUnsafeKeyFile, "key file %q is not a regular file (%s); only regular files are read", shown, mode.Type())
	}
	if perm := mode.Perm(); secretfile.Exposed(mode) {
		what := "readable"
		if perm&0o044 == 0 {
			what = "accessible"
		}
		return errorf(ErrUnsafeKeyFile, "key file %q is %s by group or others (mode %04o); run chmod 600 on it", shown, what, perm)
	}
	return checkSize(info.Size(), shown)
}

func checkSize(size int64, shown string) error {
	switch {
	case size == 0:
		return errorf(ErrUnsafeKeyFile, "key file %q is empty; it should hold a PEM private key", shown)
	case size > MaxKeyFileSize:
		return errorf(ErrUnsafeKeyFile, "key file %q is %d bytes; a PEM private key is at most %d bytes", shown, size, MaxKeyFileSize)
	}
	return nil
}

// readSame opens name and reads it only if it is still the file that was
// checked, reading at most one byte more than allowed so that a file that
// grew in the meantime is still refused.
func readSame(root *os.Root, name, shown string, checked fs.FileInfo) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", shown, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", shown, err)
	}
	if !os.SameFile(checked, opened) {
		return nil, errorf(ErrUnsafeKeyFile, "key file %q was replaced while it was being opened; try again", shown)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", shown, err)
	}
	if err := checkSize(int64(len(data)), shown); err != nil {
		return nil, err
	}
	return data, nil
}

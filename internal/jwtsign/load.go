package jwtsign

import (
	"errors"
	"fmt"
	"path/filepath"

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
// The file is read under the private directory's one rule
// ([secretfile.ReadFile], as a target's delivery files are): name is
// relative and stays inside dir (no absolute name, no ".."); a symlink is
// followed when it resolves inside dir, as in a Kubernetes secret volume,
// and refused when it leads out; the file must be a regular file of at most
// [MaxKeyFileSize] bytes whose permission bits give group and others
// nothing (mode 0600 or 0400), the same rule OpenSSH applies to its private
// keys.
//
// # Notes
//
//   - The checks run before the content is read, so a world-readable key is
//     refused even when it is otherwise valid: the secret may already have
//     leaked, and the operator should know.
//   - On Windows the permission check is skipped: its mode bits do not
//     describe the ACLs that actually protect the file.
//   - Errors name the file as dir/name. A file the rule refuses wraps
//     [ErrUnsafeKeyFile] (a missing one [fs.ErrNotExist]); key material
//     [ErrUnsupportedKey]; the algorithm [ErrUnsupportedAlg].
func LoadKey(dir, name, alg string) (*Key, error) {
	data, err := secretfile.ReadFile(dir, name, secretfile.Rule{Max: MaxKeyFileSize, Secret: true, What: "a PEM private key"})
	if errors.Is(err, secretfile.ErrUnsafe) {
		return nil, &keyError{kind: ErrUnsafeKeyFile, msg: err.Error()} // the caller prefixes its key
	} else if err != nil {
		return nil, err
	}
	shown := filepath.Join(dir, name)
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

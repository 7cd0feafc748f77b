package jwtsign

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every refusal of this package wraps exactly one of them,
// so that a caller (the config loader, the `hookd keys` command) can tell a
// file the operator must fix from a key hookd cannot use, without matching
// message text.
var (
	// ErrUnsafeKeyFile reports a key file that must not be used as it is:
	// outside the private directory (by name or through a symlink leading
	// out), not a regular file, too large, empty, or accessible by group or
	// others.
	ErrUnsafeKeyFile = errors.New("unsafe key file")

	// ErrUnsupportedKey reports key material that cannot sign hookd's
	// tokens: no PEM, an encrypted, public or symmetric key, RSA shorter
	// than 2048 bits, an unsupported curve, or DER that does not parse.
	ErrUnsupportedKey = errors.New("unsupported key")

	// ErrUnsupportedAlg reports an algorithm that is unknown, symmetric,
	// "none", or does not fit the key.
	ErrUnsupportedAlg = errors.New("unsupported alg")
)

// keyError carries a complete, user-facing message while still matching its
// sentinel with errors.Is. The message is not prefixed with the sentinel's
// text, because the operator reads it and it already says what is wrong and
// what is allowed.
type keyError struct {
	kind  error // one of the sentinels above
	msg   string
	cause error // optional underlying error, e.g. from crypto/x509
}

func (e *keyError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *keyError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

func errorf(kind error, format string, args ...any) error {
	return &keyError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func wrapf(kind, cause error, format string, args ...any) error {
	return &keyError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

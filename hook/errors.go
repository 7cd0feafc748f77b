package hook

import (
	"errors"
	"fmt"
	"time"
)

// permanentError marks a failure that no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err to say the attempt must not be retried: the delivery
// goes to the dead-letter list at once (an operator can still replay it).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err is, or wraps, a [Permanent] error.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the receiver's own wish of when to try again.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.err, e.after)
}
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err with a hint (e.g. from a Retry-After header) that the
// next attempt should wait at least d. The runtime caps the hint.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

// RetryAfterHint returns the hint carried by err, if any.
func RetryAfterHint(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// disableError says the target itself is gone.
type disableError struct{ err error }

func (e *disableError) Error() string { return e.err.Error() }
func (e *disableError) Unwrap() error { return e.err }

// Disable wraps err to say the target is gone for good (HTTP 410 Gone): the
// runtime disables the target, so that no further attempts are made to it
// until an operator enables it again.
func Disable(err error) error {
	if err == nil {
		return nil
	}
	return &disableError{err}
}

// IsDisable reports whether err is, or wraps, a [Disable] error.
func IsDisable(err error) bool {
	var d *disableError
	return errors.As(err, &d)
}

// Errors of the delivery log and the store, for errors.Is. Runtime methods
// wrap them with what was not found or does not fit.
var (
	// ErrNotFound: no such delivery, event or target.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the operation does not fit the delivery's state, e.g.
	// discarding one that was already delivered.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the store cannot be reached or written (database
	// down, disk full). Nothing was half-written; the caller may try again.
	ErrUnavailable = errors.New("store unavailable")
	// ErrClosed: the runtime was closed; nothing was written.
	ErrClosed = errors.New("hookd runtime: closed")
)

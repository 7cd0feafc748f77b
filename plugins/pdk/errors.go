package pdk

import "strconv"

// Errno is an error status of a hookd_v1 host function (hostapi/ABI.md,
// "Status codes"). The SDK's functions return it wrapped in a [*HostError]
// that names the function; test for a status with errors.Is:
//
//	res, err := pdk.Fetch(req)
//	if errors.Is(err, pdk.ErrDenied) {
//		return pdk.FailPermanently(err) // no retry makes the URL allowed
//	}
type Errno int32

// The status codes of the ABI.
const (
	ErrBadArgument Errno = -1 // an argument is not valid (bad JSON, a forbidden claim), or no call is running
	ErrMemory      Errno = -2 // a pointer or length lies outside guest memory (a bug of the SDK)
	ErrNotFound    Errno = -3 // no such field, or no result yet
	ErrTooLarge    Errno = -4 // over a size limit (reply, request)
	ErrDenied      Errno = -5 // the capability is not granted, or the target is not allowed
	ErrLimit       Errno = -6 // a count or rate limit is exhausted (log lines, HTTP requests)
	ErrTimeout     Errno = -7 // the call's deadline or the request's timeout passed
	ErrFailed      Errno = -8 // the operation failed for another reason (the host logged why)
)

var errnoText = [...]string{
	"ERR_BAD_ARGUMENT: argument not valid",
	"ERR_MEMORY: pointer or length outside guest memory",
	"ERR_NOT_FOUND: not found",
	"ERR_TOO_LARGE: over a size limit",
	"ERR_DENIED: not granted or not allowed",
	"ERR_LIMIT: limit exhausted",
	"ERR_TIMEOUT: deadline or timeout passed",
	"ERR_FAILED: failed (see the plugin log)",
}

// Error returns the ABI name of the code and what it means, e.g.
// "ERR_DENIED: not granted or not allowed".
func (e Errno) Error() string {
	if i := -int(e) - 1; i >= 0 && i < len(errnoText) {
		return errnoText[i]
	}
	return "ERR(" + strconv.Itoa(int(e)) + ")"
}

// HostError is the failure of one host function call: the function and the
// status it returned. It unwraps to its [Errno].
//
//	var he *pdk.HostError
//	if errors.As(err, &he) {
//		pdk.Logf(pdk.LevelWarn, "%s refused: %v", he.Func, he.Errno)
//	}
type HostError struct {
	Func  string // the host function, e.g. "http_request"
	Errno Errno
}

func (e *HostError) Error() string { return "pdk: " + e.Func + ": " + e.Errno.Error() }

// Unwrap returns e.Errno, for errors.Is(err, pdk.ErrDenied).
func (e *HostError) Unwrap() error { return e.Errno }

func hostError(fn string, status int32) error { return &HostError{Func: fn, Errno: Errno(status)} }

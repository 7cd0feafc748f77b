package pdk

import (
	"strconv"

	"github.com/hookrt/hookd/hostapi"
)

// Errno is an error status of a hookd_v1 host function (hostapi/ABI.md,
// "Status codes"). The SDK's functions return it wrapped in a [*HostError]
// that names the function; test for a status with errors.Is:
//
//	res, err := pdk.Fetch(req)
//	if errors.Is(err, pdk.ErrDenied) {
//		return pdk.FailPermanently(err) // no retry makes the URL allowed
//	}
type Errno int32

// The status codes of the ABI (hostapi).
const (
	ErrBadArgument = Errno(hostapi.ErrBadArgument) // an argument is not valid (bad JSON, a forbidden claim), or no call is running
	ErrMemory      = Errno(hostapi.ErrMemory)      // a pointer or length lies outside guest memory (a bug of the SDK)
	ErrNotFound    = Errno(hostapi.ErrNotFound)    // no such field, or no result yet
	ErrTooLarge    = Errno(hostapi.ErrTooLarge)    // over a size limit (reply, request)
	ErrDenied      = Errno(hostapi.ErrDenied)      // the capability is not granted, or the target is not allowed
	ErrLimit       = Errno(hostapi.ErrLimit)       // a count or rate limit is exhausted (log lines, HTTP requests)
	ErrTimeout     = Errno(hostapi.ErrTimeout)     // the call's deadline or the request's timeout passed
	ErrFailed      = Errno(hostapi.ErrFailed)      // the operation failed for another reason (the host logged why)
)

// errnoText says what each code means, by code.
var errnoText = map[Errno]string{
	ErrBadArgument: "argument not valid",
	ErrMemory:      "pointer or length outside guest memory",
	ErrNotFound:    "not found",
	ErrTooLarge:    "over a size limit",
	ErrDenied:      "not granted or not allowed",
	ErrLimit:       "limit exhausted",
	ErrTimeout:     "deadline or timeout passed",
	ErrFailed:      "failed (see the plugin log)",
}

// Error returns the ABI name of the code and what it means, e.g.
// "ERR_DENIED: not granted or not allowed".
func (e Errno) Error() string {
	if text, ok := errnoText[e]; ok {
		return hostapi.StatusName(int64(e)) + ": " + text
	}
	return "ERR(" + strconv.Itoa(int(e)) + ")" // not a code of the ABI
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

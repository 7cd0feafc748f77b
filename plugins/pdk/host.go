package pdk

import (
	"github.com/hookrt/hookd/hostapi"

	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// ptr is the address of b's first byte (nil for an empty b: the host
// accepts any pointer with a zero length).
func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// sptr is ptr for a string.
func sptr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

// read runs a reader host function the ABI's way ("Reading
// variable-length data"): it tries buf, and when the data is longer, calls
// again with a buffer of exactly its length. It returns the data, which
// aliases buf when it fit, or the status.
func read(buf []byte, call func(buf []byte) int32) ([]byte, int32) {
	for range 2 {
		n := call(buf)
		if n < 0 {
			return nil, n
		}
		if int(n) <= len(buf) {
			return buf[:n], n
		}
		buf = make([]byte, n)
	}
	return nil, int32(ErrFailed) // the data grew between two calls: never with hookd
}

// Level is the level of a log line.
type Level int32

// The log levels of the ABI.
const (
	LevelDebug = Level(hostapi.LevelDebug)
	LevelInfo  = Level(hostapi.LevelInfo)
	LevelWarn  = Level(hostapi.LevelWarn)
	LevelError = Level(hostapi.LevelError)
)

// Log writes msg to the plugin's log, which hookd records with the call.
//
//	pdk.Log(pdk.LevelInfo, "dropping session "+id)
//
// # Notes
//
//   - The host keeps 1 KiB of a line and 32 lines per call; lines beyond
//     are dropped silently.
//   - Writing to os.Stdout or os.Stderr also ends up in the log, as info
//     and warn lines.
func Log(level Level, msg string) {
	logLine(int32(level), sptr(msg), uint32(len(msg)))
	runtime.KeepAlive(msg)
}

// Logf is [Log] with fmt.Sprintf formatting.
//
//	pdk.Logf(pdk.LevelWarn, "client %s is blocked by %s", addr, prefix)
func Logf(level Level, format string, args ...any) {
	Log(level, fmt.Sprintf(format, args...))
}

// Now returns the host's wall clock, to the millisecond.
func Now() time.Time { return time.UnixMilli(nowMs()) }

// Deadline returns the time left before the call's deadline: 0 once it has
// passed (and outside a call), and math.MaxInt64 when the call has none.
//
//	if pdk.Deadline() < 50*time.Millisecond {
//		return pdk.Fail(errors.New("not enough time left to call the API"))
//	}
//
// # Notes
//
//   - The host counts in whole milliseconds, rounded down: 0 may mean that
//     less than a millisecond is left.
//   - Host HTTP requests are bounded by the deadline anyway; Deadline is
//     for deciding whether to start something at all.
func Deadline() time.Duration {
	ms := deadlineMs()
	switch {
	case ms <= 0:
		return 0
	case ms >= math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// setError sets the failure message of the call.
func setError(msg string) {
	errorSet(sptr(msg), uint32(len(msg)))
	runtime.KeepAlive(msg)
}

// result reads the n-byte result buffer of the last jwt_sign or
// http_request.
func result(fn string, n int32) ([]byte, error) {
	b := make([]byte, n)
	got := resultRead(ptr(b), uint32(len(b)))
	runtime.KeepAlive(b)
	switch {
	case got < 0:
		return nil, hostError("result_read", got)
	case got != n:
		return nil, errors.New("pdk: " + fn + ": result of " + strconv.Itoa(int(got)) + " bytes, not " + strconv.Itoa(int(n)))
	}
	return b, nil
}

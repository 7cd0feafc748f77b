package pdk

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/hookrt/hookd/hostapi"
)

// Plugin state (GetState, SetState, IncrState, DeleteState): values kept
// by hookd between calls, in its store (SQLite or PostgreSQL), shared by
// every instance of the plugin and every hookd node, and surviving
// instance discards and restarts. Keys are namespaced by the plugin's
// domain. It needs state = true in the plugin's [domain.plugin]; without
// it every call fails with [ErrDenied].
//
//	[domain.plugin]
//	state = true
//	state_max_keys = 10000       # the defaults: 10,000 keys,
//	state_max_bytes = 16777216   # 16 MiB of keys and values,
//	state_max_value = 65536      # 64 KiB per value
//
// The errors are [*HostError] values that unwrap to the [Errno]:
//
//   - [ErrNotFound]: no such key, or it expired (GetState, DeleteState).
//   - [ErrBadArgument]: a key that is not 1 to 256 bytes of printable
//     ASCII, a TTL that is negative or over 30 days, or IncrState on a
//     value that is not a decimal integer or a sum that overflows.
//   - [ErrTooLarge]: a value over state_max_value.
//   - [ErrLimit]: the domain has no room left (state_max_keys,
//     state_max_bytes).
//   - [ErrDenied]: the plugin has no state.
//   - [ErrTimeout], [ErrFailed]: the store did not answer in time, or
//     could not be used (hookd logged why); worth a retry ([Fail]).

// MaxStateTTL is the longest expiry of SetState and IncrState.
const MaxStateTTL = hostapi.MaxStateTTL

// GetState returns the value stored at key, or an error matching
// [ErrNotFound] if there is none (or it expired).
//
//	last, err := pdk.GetState("last-session")
//	switch {
//	case errors.Is(err, pdk.ErrNotFound):
//		// first time
//	case err != nil:
//		return pdk.Fail(err)
//	}
//
// # Notes
//
//   - The value may change between two calls (another instance or node
//     may write it); IncrState is the way to count.
//   - Without state = true in [domain.plugin], every state function
//     fails with [ErrDenied]; when the store cannot answer in time, or at
//     all, with [ErrTimeout] or [ErrFailed] (hookd logs why): return
//     [Fail] to have the event retried.
func GetState(key string) ([]byte, error) {
	var scratch [256]byte
	buf := scratch[:]
	// The value is read into buf when it fits; when it does not, the
	// status is its length and it is read again into a buffer of that
	// length. Another writer may change it in between: try a few times.
	for range 4 {
		n := stateGet(sptr(key), uint32(len(key)), ptr(buf), uint32(len(buf)))
		runtime.KeepAlive(key)
		runtime.KeepAlive(buf)
		if n < 0 {
			return nil, hostError("state_get", n)
		}
		if int(n) <= len(buf) {
			return append([]byte{}, buf[:n]...), nil
		}
		buf = make([]byte, n)
	}
	return nil, hostError("state_get", int32(ErrFailed)) // rewritten with a longer value every time
}

// SetState stores value at key, replacing any value, for ttl (0: no
// expiry; it is rounded up to a whole millisecond, and at most
// [MaxStateTTL]).
//
//	err := pdk.SetState("last-session", []byte(ev.Get("SESSIONID")), 24*time.Hour)
//
// # Notes
//
//   - A key is 1 to 256 bytes of printable ASCII (0x20–0x7E), or
//     [ErrBadArgument].
//   - A value over the domain's state_max_value (64 KiB by default) is
//     [ErrTooLarge]; a write that would take the domain past
//     state_max_keys or state_max_bytes is [ErrLimit].
//   - A TTL that is negative or over MaxStateTTL is [ErrBadArgument].
func SetState(key string, value []byte, ttl time.Duration) error {
	st := stateSet(sptr(key), uint32(len(key)), ptr(value), uint32(len(value)), ttlMs(ttl))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	if st < 0 {
		return hostError("state_set", st)
	}
	return nil
}

// IncrState adds delta to the integer stored at key (0 when there is
// none, or it expired) and returns the sum, atomically: increments from
// several instances and several hookd nodes are never lost. ttl (0: no
// expiry) applies only when IncrState creates the key, so a key created
// with a TTL counts events within a window that opens with its first
// increment:
//
//	n, err := pdk.IncrState("events", 1, time.Minute)
//	if err != nil {
//		return pdk.Fail(err)
//	}
//	if n > 100 {
//		// the 101st event within the minute
//	}
//
// # Notes
//
//   - The value is stored as decimal text ("42"), which GetState returns
//     and SetState may write; any other value is [ErrBadArgument], as is
//     a sum beyond the range of int64.
func IncrState(key string, delta int64, ttl time.Duration) (int64, error) {
	var n int64
	st := stateIncr(sptr(key), uint32(len(key)), delta, ttlMs(ttl), unsafe.Pointer(&n))
	runtime.KeepAlive(key)
	if st < 0 {
		return 0, hostError("state_incr", st)
	}
	return n, nil
}

// DeleteState removes key; it returns an error matching [ErrNotFound] if
// there was none (or it had expired).
func DeleteState(key string) error {
	st := stateDelete(sptr(key), uint32(len(key)))
	runtime.KeepAlive(key)
	if st < 0 {
		return hostError("state_delete", st)
	}
	return nil
}

// ttlMs converts ttl to the ABI's milliseconds, rounding a positive ttl up
// (so that a sub-millisecond TTL is not 0, "no expiry"). A negative ttl
// stays negative, for the host to refuse.
func ttlMs(ttl time.Duration) int64 {
	switch {
	case ttl == 0:
		return 0
	case ttl < 0:
		return min(ttl.Milliseconds(), -1)
	}
	ms := ttl.Milliseconds()
	if time.Duration(ms)*time.Millisecond < ttl {
		ms++
	}
	return ms
}

package hook

import (
	"context"
	"errors"
	"time"
)

// StateStore keeps the durable state of WASM plugins, the store behind the
// state_get, state_set, state_incr and state_delete host functions
// (hostapi/ABI.md, "Plugin state"): small values by key, namespaced by
// domain (the [[domain]] id), each with an optional expiry. The runtime
// gives one to modules in [Env.State]; `hookd plugin run` uses one in
// memory.
//
//	n, err := env.State.Incr(ctx, "acme", "events", 1, time.Minute, lim)
//	if errors.Is(err, hook.ErrStateFull) { … } // the domain's keys or bytes are used up
//
// # Notes
//
//   - Implementations are safe for concurrent use, also across processes
//     sharing one store (several nodes on one PostgreSQL): Incr is atomic,
//     and the limits hold however many callers write at once.
//   - An expired key is absent: Get and Delete return [ErrNotFound], Set
//     and Incr create it anew. Expired keys count toward no limit (they
//     are removed, at the latest, when a write would exceed one).
//   - Keys are checked by the caller (1 to 256 bytes of printable ASCII,
//     hostapi.MaxStateKey); the store takes them as they are.
//   - Errors: [ErrNotFound], [ErrStateTooLarge], [ErrStateFull],
//     [ErrStateNotInteger], or an error matching [ErrUnavailable] when the
//     store cannot be used (not open yet, down, closed).
type StateStore interface {
	// Get returns the value of key in domain, or ErrNotFound. The
	// slice is the caller's.
	Get(ctx context.Context, domain, key string) ([]byte, error)
	// Set stores value under key, replacing any value and its expiry;
	// ttl 0 means no expiry. It refuses a value over lim.MaxValue
	// (ErrStateTooLarge) and a write that would take the domain past
	// lim.MaxKeys or lim.MaxBytes (ErrStateFull).
	Set(ctx context.Context, domain, key string, value []byte, ttl time.Duration, lim StateLimits) error
	// Incr adds delta to the decimal integer stored at key (absent or
	// expired: 0), stores the sum as decimal text and returns it, in one
	// atomic step. ttl applies only when Incr creates the key; an
	// existing key keeps its expiry. A value that is not a decimal
	// integer, or a sum that overflows int64, is ErrStateNotInteger;
	// limits as for Set.
	Incr(ctx context.Context, domain, key string, delta int64, ttl time.Duration, lim StateLimits) (int64, error)
	// Delete removes key, or returns ErrNotFound if it is absent (or
	// expired).
	Delete(ctx context.Context, domain, key string) error
}

// StateLimits bound one domain's plugin state ([domain.plugin]
// state_max_value, state_max_keys, state_max_bytes). A field <= 0 sets no
// limit: the host always passes all three (hostapi's defaults unless
// configured).
type StateLimits struct {
	MaxValue int   // bytes of one value
	MaxKeys  int   // keys of the domain
	MaxBytes int64 // bytes of the domain's keys and values together
}

// Errors of a [StateStore], for errors.Is. The store wraps them with what
// did not fit.
var (
	// ErrStateTooLarge: the value is over the domain's state_max_value.
	ErrStateTooLarge = errors.New("plugin state: value too large")
	// ErrStateFull: the write would take the domain past its
	// state_max_keys or state_max_bytes.
	ErrStateFull = errors.New("plugin state: the domain's limit is reached")
	// ErrStateNotInteger: Incr found a value that is not a decimal
	// integer, or the sum overflows a signed 64-bit integer.
	ErrStateNotInteger = errors.New("plugin state: not a decimal integer")
)

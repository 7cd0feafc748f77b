package hostfn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
)

// State is a plugin's durable state capability: the store its keys live
// in, the domain they are namespaced by, and the domain's limits. Make one
// with [NewState]; it is safe for concurrent use (the store is).
//
//	s, err := hostfn.NewState(store, "acme", hook.StateLimits{})
//	g := hostfn.Grants{State: s}
type State struct {
	store  hook.StateStore
	domain string
	lim    hook.StateLimits
}

// NewState checks lim and returns the capability of domain's plugin over
// store. Zero limits take hostapi's defaults (DefaultStateMaxValue,
// DefaultStateMaxKeys, DefaultStateMaxBytes).
//
// # Notes
//
//   - The error names the limit that is out of range and the range.
//   - store may be bound late (the runtime's is, once the store is open):
//     NewState does not call it.
func NewState(store hook.StateStore, domain string, lim hook.StateLimits) (*State, error) {
	if store == nil {
		return nil, errors.New("state: no store")
	}
	def := DefaultStateLimits()
	if lim.MaxValue == 0 {
		lim.MaxValue = def.MaxValue
	}
	if lim.MaxKeys == 0 {
		lim.MaxKeys = def.MaxKeys
	}
	if lim.MaxBytes == 0 {
		lim.MaxBytes = def.MaxBytes
	}
	if err := CheckStateLimits(lim); err != nil {
		return nil, err
	}
	return &State{store: store, domain: domain, lim: lim}, nil
}

// DefaultStateLimits returns hostapi's defaults: 64 KiB per value, 10,000
// keys and 16 MiB of keys and values per domain.
func DefaultStateLimits() hook.StateLimits {
	return hook.StateLimits{MaxValue: hostapi.DefaultStateMaxValue, MaxKeys: hostapi.DefaultStateMaxKeys,
		MaxBytes: hostapi.DefaultStateMaxBytes}
}

// CheckStateLimits reports the first limit of lim out of its range, named
// by its [domain.plugin] key. Zero fields are out of range: fill in the
// defaults first (NewState does).
func CheckStateLimits(lim hook.StateLimits) error {
	var errs []error
	if lim.MaxValue < hostapi.MinStateMaxValue || lim.MaxValue > hostapi.MaxStateMaxValue {
		errs = append(errs, fmt.Errorf("state_max_value: must be between %d bytes and %d (1 MiB), got %d",
			hostapi.MinStateMaxValue, hostapi.MaxStateMaxValue, lim.MaxValue))
	}
	if lim.MaxKeys < 1 || lim.MaxKeys > hostapi.MaxStateMaxKeys {
		errs = append(errs, fmt.Errorf("state_max_keys: must be between 1 and %d, got %d", hostapi.MaxStateMaxKeys, lim.MaxKeys))
	}
	if lim.MaxBytes < hostapi.MinStateMaxBytes || lim.MaxBytes > hostapi.MaxStateMaxBytes {
		errs = append(errs, fmt.Errorf("state_max_bytes: must be between %d (1 KiB) and %d (1 GiB), got %d",
			hostapi.MinStateMaxBytes, hostapi.MaxStateMaxBytes, lim.MaxBytes))
	}
	return errors.Join(errs...)
}

// Domain returns the domain the plugin's keys are namespaced by.
func (s *State) Domain() string { return s.domain }

// Limits returns the domain's limits, defaults filled in.
func (s *State) Limits() hook.StateLimits { return s.lim }

// CheckStateKey reports what is wrong with a state key: it must be 1 to
// hostapi.MaxStateKey bytes of printable ASCII (0x20–0x7E), so that every
// key can be shown and typed as it is.
func CheckStateKey(key []byte) error {
	if len(key) == 0 || len(key) > hostapi.MaxStateKey {
		return fmt.Errorf("key of %d bytes: a key is 1 to %d bytes", len(key), hostapi.MaxStateKey)
	}
	for i, c := range key {
		if c < ' ' || c > '~' {
			return fmt.Errorf("key %s: byte %d is 0x%02x; a key is printable ASCII (0x20-0x7e)", quote(string(key)), i, c)
		}
	}
	return nil
}

// stateTTL converts ttl_ms, or reports why it is refused.
func stateTTL(ms int64) (time.Duration, error) {
	if ms < 0 || ms > hostapi.MaxStateTTL.Milliseconds() {
		return 0, fmt.Errorf("ttl_ms %d: must be 0 (no expiry) to %d (30 days)", ms, hostapi.MaxStateTTL.Milliseconds())
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// stateFor checks the grant and the key of a state call: ErrDenied
// without the capability, ErrBadArgument for a key the ABI does not
// allow (each logged).
func (c *Call) stateFor(name string, key []byte) (*State, int32) {
	var s *State
	if c.grants != nil {
		s = c.grants.State
	}
	if s == nil {
		c.hostLog(hostapi.LevelWarn, name+" denied: the plugin has no state (state = true in [domain.plugin])")
		return nil, hostapi.ErrDenied
	}
	if err := CheckStateKey(key); err != nil {
		c.hostLog(hostapi.LevelWarn, name+" refused: "+err.Error())
		return nil, hostapi.ErrBadArgument
	}
	return s, hostapi.OK
}

// stateError maps what the store returned to a status, and logs why for
// everything but ErrNotFound.
func (c *Call) stateError(ctx context.Context, name, key string, err error) int32 {
	switch {
	case errors.Is(err, hook.ErrNotFound):
		return hostapi.ErrNotFound
	case errors.Is(err, hook.ErrStateTooLarge):
		c.hostLog(hostapi.LevelWarn, name+" refused: "+err.Error())
		return hostapi.ErrTooLarge
	case errors.Is(err, hook.ErrStateFull):
		c.hostLog(hostapi.LevelWarn, name+" refused: "+err.Error())
		return hostapi.ErrLimit
	case errors.Is(err, hook.ErrStateNotInteger):
		c.hostLog(hostapi.LevelWarn, name+" refused: "+err.Error())
		return hostapi.ErrBadArgument
	case ctx.Err() != nil:
		c.hostLog(hostapi.LevelWarn, name+" of "+quote(key)+": the call's deadline passed: "+err.Error())
		return hostapi.ErrTimeout
	}
	c.hostLog(hostapi.LevelError, name+" of "+quote(key)+" failed: "+err.Error())
	return hostapi.ErrFailed
}

// stateGet implements state_get(key, key_len, buf, buf_len).
func stateGet(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	key, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	if !ok || !inMemory(mem, arg(stack, 2), arg(stack, 3)) {
		return hostapi.ErrMemory
	}
	s, st := c.stateFor(hostapi.FuncStateGet, key)
	if st != hostapi.OK {
		return st
	}
	k := string(key)
	c.counters.StateCalls++
	v, err := s.store.Get(ctx, s.domain, k)
	if err != nil {
		return c.stateError(ctx, hostapi.FuncStateGet, k, err)
	}
	return deliver(mem, arg(stack, 2), arg(stack, 3), v)
}

// stateSet implements state_set(key, key_len, val, val_len, ttl_ms).
func stateSet(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	key, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	valPtr, valLen := arg(stack, 2), arg(stack, 3)
	if !ok || !inMemory(mem, valPtr, valLen) {
		return hostapi.ErrMemory
	}
	s, st := c.stateFor(hostapi.FuncStateSet, key)
	if st != hostapi.OK {
		return st
	}
	k := string(key)
	ttl, err := stateTTL(int64(stack[4]))
	if err != nil {
		c.hostLog(hostapi.LevelWarn, "state_set refused: "+err.Error())
		return hostapi.ErrBadArgument
	}
	if int64(valLen) > int64(s.lim.MaxValue) {
		c.hostLog(hostapi.LevelWarn, "state_set refused: a value of "+strconv.FormatUint(uint64(valLen), 10)+
			" bytes, over the "+strconv.Itoa(s.lim.MaxValue)+"-byte limit (state_max_value)")
		return hostapi.ErrTooLarge
	}
	val, ok := readGuest(mem, valPtr, valLen)
	if !ok {
		return hostapi.ErrMemory
	}
	c.counters.StateCalls++
	if err := s.store.Set(ctx, s.domain, k, val, ttl, s.lim); err != nil {
		return c.stateError(ctx, hostapi.FuncStateSet, k, err)
	}
	return hostapi.OK
}

// stateIncr implements state_incr(key, key_len, delta, ttl_ms, out).
func stateIncr(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	key, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	out := arg(stack, 4)
	if !ok || !inMemory(mem, out, 8) {
		return hostapi.ErrMemory
	}
	s, st := c.stateFor(hostapi.FuncStateIncr, key)
	if st != hostapi.OK {
		return st
	}
	k := string(key)
	ttl, err := stateTTL(int64(stack[3]))
	if err != nil {
		c.hostLog(hostapi.LevelWarn, "state_incr refused: "+err.Error())
		return hostapi.ErrBadArgument
	}
	c.counters.StateCalls++
	n, err := s.store.Incr(ctx, s.domain, k, int64(stack[2]), ttl, s.lim)
	if err != nil {
		return c.stateError(ctx, hostapi.FuncStateIncr, k, err)
	}
	if !mem.WriteUint64Le(out, uint64(n)) {
		return hostapi.ErrMemory // not reachable: checked above
	}
	return hostapi.OK
}

// stateDelete implements state_delete(key, key_len).
func stateDelete(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	key, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	if !ok {
		return hostapi.ErrMemory
	}
	s, st := c.stateFor(hostapi.FuncStateDelete, key)
	if st != hostapi.OK {
		return st
	}
	k := string(key)
	c.counters.StateCalls++
	if err := s.store.Delete(ctx, s.domain, k); err != nil {
		return c.stateError(ctx, hostapi.FuncStateDelete, k, err)
	}
	return hostapi.OK
}

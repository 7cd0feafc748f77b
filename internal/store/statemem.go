package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
)

// MemoryState is a [hook.StateStore] in memory, with the semantics and
// the limits of the durable one ([PluginState]): for `hookd plugin run`,
// which has no store, and for tests. The zero value is not usable; make
// one with [NewMemoryState]. It is safe for concurrent use.
//
//	s, _ := hostfn.NewState(store.NewMemoryState(), "acme", hook.StateLimits{})
type MemoryState struct {
	now func() time.Time

	mu      sync.Mutex
	domains map[string]*memDomain
}

// memDomain is one domain's keys and the bytes they take (len(key) +
// len(value) each, expired keys included until they are removed).
type memDomain struct {
	keys  map[string]memEntry
	bytes int64
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

var _ hook.StateStore = (*MemoryState)(nil)

// NewMemoryState returns an empty store on the wall clock.
func NewMemoryState() *MemoryState { return NewMemoryStateAt(time.Now) }

// NewMemoryStateAt returns an empty store on the clock now, for tests of
// expiry.
func NewMemoryStateAt(now func() time.Time) *MemoryState {
	return &MemoryState{now: now, domains: map[string]*memDomain{}}
}

func (e memEntry) live(now time.Time) bool { return e.expires.IsZero() || e.expires.After(now) }

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// Get implements hook.StateStore.
func (m *MemoryState) Get(_ context.Context, domain, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.domains[domain]; d != nil {
		if e, ok := d.keys[key]; ok && e.live(m.now()) {
			return append([]byte{}, e.value...), nil
		}
	}
	return nil, fmt.Errorf("state key %q: %w", key, hook.ErrNotFound)
}

// Set implements hook.StateStore.
func (m *MemoryState) Set(_ context.Context, domain, key string, value []byte, ttl time.Duration, lim hook.StateLimits) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if err := m.fit(domain, key, len(value), lim, now); err != nil {
		return err
	}
	m.put(domain, key, append([]byte{}, value...), expiry(now, ttl))
	return nil
}

// Incr implements hook.StateStore.
func (m *MemoryState) Incr(_ context.Context, domain, key string, delta int64, ttl time.Duration, lim hook.StateLimits) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var (
		cur     int64
		expires = expiry(now, ttl)
	)
	if d := m.domains[domain]; d != nil {
		if e, ok := d.keys[key]; ok && e.live(now) {
			n, err := parseStateInt(key, e.value)
			if err != nil {
				return 0, err
			}
			cur, expires = n, e.expires
		}
	}
	next, err := addStateInt(key, cur, delta)
	if err != nil {
		return 0, err
	}
	text := strconv.AppendInt(nil, next, 10)
	if err := m.fit(domain, key, len(text), lim, now); err != nil {
		return 0, err
	}
	m.put(domain, key, text, expires)
	return next, nil
}

// Delete implements hook.StateStore.
func (m *MemoryState) Delete(_ context.Context, domain, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.domains[domain]; d != nil {
		if e, ok := d.keys[key]; ok {
			delete(d.keys, key)
			d.bytes -= int64(len(key) + len(e.value))
			if e.live(m.now()) {
				return nil
			}
		}
	}
	return fmt.Errorf("state key %q: %w", key, hook.ErrNotFound)
}

// fit checks that a value of n bytes under key fits domain's limits,
// removing the domain's expired keys first when it would not.
func (m *MemoryState) fit(domain, key string, n int, lim hook.StateLimits, now time.Time) error {
	if lim.MaxValue > 0 && n > lim.MaxValue {
		return stateTooLarge(key, n, lim)
	}
	d := m.domains[domain]
	if d == nil {
		d = &memDomain{keys: map[string]memEntry{}}
		m.domains[domain] = d
	}
	over := func() error {
		old, exists := d.keys[key]
		keys, bytes := len(d.keys), d.bytes+int64(len(key)+n)
		if exists {
			bytes -= int64(len(key) + len(old.value))
		} else {
			keys++
		}
		return stateFull(domain, keys, bytes, !exists, bytes > d.bytes, lim)
	}
	if over() == nil {
		return nil
	}
	for k, e := range d.keys {
		if !e.live(now) {
			delete(d.keys, k)
			d.bytes -= int64(len(k) + len(e.value))
		}
	}
	return over()
}

// put stores value under key, keeping the domain's byte count.
func (m *MemoryState) put(domain, key string, value []byte, expires time.Time) {
	d := m.domains[domain]
	if old, ok := d.keys[key]; ok {
		d.bytes -= int64(len(key) + len(old.value))
	}
	d.keys[key] = memEntry{value: value, expires: expires}
	d.bytes += int64(len(key) + len(value))
}

// The helpers below are shared with the durable store (pluginstate.go), so
// that both refuse the same writes with the same words.

// stateTooLarge is the error of a value of n bytes over lim.MaxValue.
func stateTooLarge(key string, n int, lim hook.StateLimits) error {
	return fmt.Errorf("state key %q: a value of %d bytes is over the %d-byte limit (state_max_value): %w",
		key, n, lim.MaxValue, hook.ErrStateTooLarge)
}

// stateFull returns an error if a write leaving domain with keys keys and
// bytes bytes is over lim: a write that adds a key (added) may not pass
// MaxKeys, one that grows the domain (grows) may not pass MaxBytes. A
// write that shrinks a domain already over a lowered limit is allowed.
func stateFull(domain string, keys int, bytes int64, added, grows bool, lim hook.StateLimits) error {
	if added && lim.MaxKeys > 0 && keys > lim.MaxKeys {
		return fmt.Errorf("domain %q has all the %d keys it may have (state_max_keys): %w", domain, lim.MaxKeys, hook.ErrStateFull)
	}
	if grows && lim.MaxBytes > 0 && bytes > lim.MaxBytes {
		return fmt.Errorf("domain %q would hold %d bytes of keys and values, over the %d-byte limit (state_max_bytes): %w",
			domain, bytes, lim.MaxBytes, hook.ErrStateFull)
	}
	return nil
}

// parseStateInt reads the decimal integer state_incr adds to: an optional
// sign and decimal digits, as strconv.ParseInt reads them in base 10.
func parseStateInt(key string, value []byte) (int64, error) {
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("state key %q holds %q, not a decimal integer: %w", key, cut(value, 64), hook.ErrStateNotInteger)
	}
	return n, nil
}

// addStateInt returns cur + delta, or an error if the sum overflows int64.
func addStateInt(key string, cur, delta int64) (int64, error) {
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, fmt.Errorf("state key %q: %d + %d overflows a signed 64-bit integer: %w", key, cur, delta, hook.ErrStateNotInteger)
	}
	return cur + delta, nil
}

// cut returns at most n bytes of b, for an error message.
func cut(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

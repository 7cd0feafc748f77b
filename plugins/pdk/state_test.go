//go:build !wasip1

package pdk

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stateFake adds the state functions to fakeHost: a map, the TTLs it was
// given, and a hook to change a value between two reads.
type stateFake struct {
	*fakeHost
	values map[string][]byte
	ttls   map[string]int64
	reads  int
	// onRead runs before each state_get, with the read's number (from 1).
	onRead func(n int)
}

func useStateHost(t *testing.T) *stateFake {
	t.Helper()
	h := &stateFake{fakeHost: &fakeHost{calls: map[string]int{}}, values: map[string][]byte{}, ttls: map[string]int64{}}
	stub = h
	t.Cleanup(func() { stub = nil })
	return h
}

func (h *stateFake) stateGet(key string, buf []byte) int32 {
	h.reads++
	if h.onRead != nil {
		h.onRead(h.reads)
	}
	v, ok := h.values[key]
	if !ok {
		return int32(ErrNotFound)
	}
	return deliver(buf, v)
}

func (h *stateFake) stateSet(key string, val []byte, ttlMs int64) int32 {
	if ttlMs < 0 {
		return int32(ErrBadArgument)
	}
	h.values[key], h.ttls[key] = append([]byte(nil), val...), ttlMs
	return 0
}

func (h *stateFake) stateIncr(key string, delta, ttlMs int64, out *int64) int32 {
	cur := int64(0)
	if v, ok := h.values[key]; ok {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return int32(ErrBadArgument)
		}
		cur = n
	} else {
		h.ttls[key] = ttlMs
	}
	cur += delta
	h.values[key] = []byte(strconv.FormatInt(cur, 10))
	*out = cur
	return 0
}

func (h *stateFake) stateDelete(key string) int32 {
	if _, ok := h.values[key]; !ok {
		return int32(ErrNotFound)
	}
	delete(h.values, key)
	return 0
}

func TestState(t *testing.T) {
	h := useStateHost(t)
	if _, err := GetState("k"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "state_get") {
		t.Errorf("GetState of an absent key: %v", err)
	}
	if err := SetState("k", []byte("v"), 1500*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if h.ttls["k"] != 2 {
		t.Errorf("1.5 ms sent as %d ms, want 2 (rounded up, never 0)", h.ttls["k"])
	}
	if v, err := GetState("k"); err != nil || string(v) != "v" {
		t.Errorf("GetState = %q, %v", v, err)
	}
	for _, want := range []int64{5, 3} {
		n, err := IncrState("n", want-h.count("n"), time.Minute)
		if err != nil || n != want {
			t.Errorf("IncrState = %d, %v; want %d", n, err, want)
		}
	}
	if h.ttls["n"] != 60000 {
		t.Errorf("ttl %d ms", h.ttls["n"])
	}
	if _, err := IncrState("k", 1, 0); !errors.Is(err, ErrBadArgument) {
		t.Errorf("IncrState of a word: %v", err)
	}
	if err := SetState("k", nil, -time.Nanosecond); !errors.Is(err, ErrBadArgument) {
		t.Errorf("a negative TTL: %v", err) // sent as -1 ms, not 0 (no expiry)
	}
	if err := DeleteState("n"); err != nil {
		t.Error(err)
	}
	var he *HostError
	if err := DeleteState("n"); !errors.As(err, &he) || he.Func != "state_delete" || he.Errno != ErrNotFound {
		t.Errorf("DeleteState again: %v", err)
	}
}

func (h *stateFake) count(key string) int64 {
	n, _ := strconv.ParseInt(string(h.values[key]), 10, 64)
	return n
}

// TestGetStateGrows: a value larger than the first buffer is read again
// at its length, and again if another writer made it longer meanwhile.
func TestGetStateGrows(t *testing.T) {
	h := useStateHost(t)
	long := strings.Repeat("x", 1000)
	h.values["k"] = []byte(long)
	if v, err := GetState("k"); err != nil || string(v) != long || h.reads != 2 {
		t.Errorf("GetState = %d bytes, %v, after %d reads; want 1000 after 2", len(v), err, h.reads)
	}
	h.reads = 0
	h.onRead = func(n int) { h.values["k"] = []byte(strings.Repeat("y", 300*n)) }
	if _, err := GetState("k"); !errors.Is(err, ErrFailed) || h.reads != 4 {
		t.Errorf("a value growing at every read: %v after %d reads", err, h.reads)
	}
	h.reads = 0
	h.onRead = func(n int) {
		if n == 1 {
			h.values["k"] = []byte(strings.Repeat("z", 500))
		} else {
			h.values["k"] = []byte("short")
		}
	}
	if v, err := GetState("k"); err != nil || string(v) != "short" {
		t.Errorf("a value that shrank: %q, %v", v, err)
	}
}

func TestStateWithoutHost(t *testing.T) {
	if _, err := GetState("k"); !errors.Is(err, ErrBadArgument) {
		t.Errorf("no host: %v", err)
	}
	if _, err := IncrState("k", 1, 0); !errors.Is(err, ErrBadArgument) {
		t.Errorf("no host: %v", err)
	}
}

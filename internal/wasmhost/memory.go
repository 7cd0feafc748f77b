package wasmhost

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// Linear memory
//
// By default wazero backs a guest's memory with a Go slice of its current
// size, and memory.grow appends to it: a guest growing to 16 MiB one page
// at a time copies its whole memory at each step, about 150 ms of a
// 250 ms deadline (BenchmarkMemoryGrow). Each instance here reserves its
// maximum up front instead: the module's declared maximum, lowered to the
// plugin's memory_pages as wazero does (or memory_pages when it declares
// none). memory.grow then only lengthens the slice.
//
// The reservation is address space, not memory: an anonymous private
// mapping (MAP_NORESERVE on Linux) whose pages the kernel provides, zeroed,
// when the guest first touches them, and which is unmapped when the
// instance closes. It is outside the Go heap, so a plugin's 16 MiB per
// instance does not raise the garbage collector's goal. Where mapping is
// not available, or fails, memory comes from the Go heap, grown by
// doubling (a few copies instead of one per page).
//
// wazero's RuntimeConfig.WithMemoryCapacityFromMax would also stop the
// copies, but it refuses a module whose declared maximum is over the
// limit (hookd lowers it, as wazero does without the option), and it
// allocates every instance's maximum on the Go heap.
//
// # When the mapping is freed
//
// wazero frees a module's memory when the module closes, which can happen
// from another goroutine while a call runs on it (a Runtime closed under
// running calls, at shutdown). Unmapping then would fault the running
// guest, so an instance counts the calls that use its memory (users) and
// a Free that comes while one runs only marks the memory; the last user
// unmaps it.

// instanceMemory is the experimental.MemoryAllocator of one instance: it
// keeps the memory it allocated so that the instance can hold it.
type instanceMemory struct {
	heap bool // wazero's default behaviour, for comparison (Engine.heapMemory)
	mem  *linearMemory
}

// withMemory returns ctx with an allocator for one instantiation, and the
// allocator, whose mem is set once wazero has allocated the memory.
func withMemory(ctx context.Context, heap bool) (context.Context, *instanceMemory) {
	a := &instanceMemory{heap: heap}
	if heap {
		return ctx, a
	}
	return experimental.WithMemoryAllocator(ctx, a), a
}

// Allocate implements experimental.MemoryAllocator. max is the module's
// maximum as wazero settled it (at most the runtime's memory limit); the
// memory starts with one user, the instantiation, which ends with done.
func (a *instanceMemory) Allocate(_, max uint64) experimental.LinearMemory {
	m := &linearMemory{users: 1}
	if buf, ok := reserve(max); ok {
		m.buf, m.mapped = buf, true
	} else {
		m.max = max
	}
	a.mem = m
	return m
}

// enter registers a call that will use the memory; false if it was freed
// (the instance's module was closed under it), and the call must not run.
func (a *instanceMemory) enter() bool {
	if a == nil || a.mem == nil {
		return true
	}
	return a.mem.enter()
}

// exit ends what enter (or the instantiation) began.
func (a *instanceMemory) exit() {
	if a != nil && a.mem != nil {
		a.mem.exit()
	}
}

// linearMemory is a guest's linear memory (experimental.LinearMemory).
type linearMemory struct {
	mu       sync.Mutex
	buf      []byte // mapped: the whole reservation; else the Go slice in use
	mapped   bool
	max      uint64 // heap: the most bytes Reallocate may grow to
	users    int    // calls (and the instantiation) using the memory now
	pending  bool   // Free came while users > 0: the last exit releases
	released bool
}

// Reallocate implements experimental.LinearMemory: the memory, size bytes
// long; nil when size is over the maximum (memory.grow returns -1).
func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.released:
		return nil
	case m.mapped:
		if size > uint64(len(m.buf)) {
			return nil
		}
		return m.buf[:size]
	case size > m.max:
		return nil
	}
	if size > uint64(cap(m.buf)) {
		grown := make([]byte, size, min(m.max, max(size, 2*uint64(cap(m.buf)))))
		copy(grown, m.buf)
		m.buf = grown
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users > 0 {
		m.pending = true
		return
	}
	m.release()
}

func (m *linearMemory) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released || m.pending {
		return false
	}
	m.users++
	return true
}

func (m *linearMemory) exit() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users--
	if m.users == 0 && m.pending {
		m.release()
	}
}

// release gives the memory back; the caller holds m.mu.
func (m *linearMemory) release() {
	if m.released {
		return
	}
	if m.mapped && len(m.buf) > 0 {
		unreserve(m.buf)
	}
	m.buf, m.pending, m.released = nil, false, true
}

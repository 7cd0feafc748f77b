//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package wasmhost

import "syscall"

// reserve maps n bytes of anonymous, private, zeroed memory, committed by
// the kernel page by page as the guest touches it; false if it cannot.
func reserve(n uint64) ([]byte, bool) {
	if n == 0 || n > 1<<32 {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, false
	}
	return b, true
}

// unreserve unmaps what reserve mapped.
func unreserve(b []byte) { _ = syscall.Munmap(b[:cap(b)]) }

//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package wasmhost

// reserve: no anonymous mappings here; linear memory comes from the Go
// heap, grown by doubling.
func reserve(uint64) ([]byte, bool) { return nil, false }

func unreserve([]byte) {}

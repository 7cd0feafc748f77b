//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package wasmhost

// mapNoReserve: these systems do not charge anonymous mappings up front.
const mapNoReserve = 0

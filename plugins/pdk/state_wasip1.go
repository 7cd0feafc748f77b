//go:build wasip1

package pdk

import "unsafe"

// The plugin state host functions (hostapi/ABI.md, "Plugin state"). out
// of state_incr points to an int64: wasm is little-endian, as the host
// writes it.

//go:wasmimport hookd_v1 state_get
func stateGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport hookd_v1 state_set
func stateSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttlMs int64) int32

//go:wasmimport hookd_v1 state_incr
func stateIncr(key unsafe.Pointer, keyLen uint32, delta int64, ttlMs int64, out unsafe.Pointer) int32

//go:wasmimport hookd_v1 state_delete
func stateDelete(key unsafe.Pointer, keyLen uint32) int32

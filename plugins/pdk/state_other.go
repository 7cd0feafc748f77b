//go:build !wasip1

package pdk

import "unsafe"

// stateStub is the host of the state functions, as the package's tests
// fake it; a stub without them answers ERR_BAD_ARGUMENT, as abi_other.go's
// functions do without a stub.
type stateStub interface {
	stateGet(key string, buf []byte) int32
	stateSet(key string, val []byte, ttlMs int64) int32
	stateIncr(key string, delta, ttlMs int64, out *int64) int32
	stateDelete(key string) int32
}

func stateHost() stateStub {
	s, _ := stub.(stateStub)
	return s
}

func stateGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, bufLen uint32) int32 {
	s := stateHost()
	if s == nil {
		return noHost
	}
	return s.stateGet(stringAt(key, keyLen), bytesAt(buf, bufLen))
}

func stateSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttlMs int64) int32 {
	s := stateHost()
	if s == nil {
		return noHost
	}
	return s.stateSet(stringAt(key, keyLen), bytesAt(val, valLen), ttlMs)
}

func stateIncr(key unsafe.Pointer, keyLen uint32, delta int64, ttlMs int64, out unsafe.Pointer) int32 {
	s := stateHost()
	if s == nil {
		return noHost
	}
	return s.stateIncr(stringAt(key, keyLen), delta, ttlMs, (*int64)(out))
}

func stateDelete(key unsafe.Pointer, keyLen uint32) int32 {
	s := stateHost()
	if s == nil {
		return noHost
	}
	return s.stateDelete(stringAt(key, keyLen))
}

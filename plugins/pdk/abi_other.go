//go:build !wasip1

package pdk

import "unsafe"

// Outside wasip1 there is no hookd host. The package still compiles, so
// that documentation, editors and `go vet ./...` work on any platform, and
// its own tests serve the host functions from a fake (stub). Without one,
// every function answers ERR_BAD_ARGUMENT, as hookd does outside a call.

// hostStub is the host, as the package's tests fake it. Buffers are the
// guest memory the pointer and length designate.
type hostStub interface {
	eventLen() int32
	eventRead(buf []byte) int32
	eventGet(name string, buf []byte) int32
	replySet(b []byte) int32
	errorSet(b []byte) int32
	log(level int32, b []byte) int32
	nowMs() int64
	deadlineMs() int64
	configRead(buf []byte) int32
	jwtSign(key string, claims []byte) int32
	httpRequest(req []byte) int32
	resultRead(buf []byte) int32
}

// stub is set by the package's tests.
var stub hostStub

const noHost = int32(ErrBadArgument)

func bytesAt(p unsafe.Pointer, n uint32) []byte { return unsafe.Slice((*byte)(p), n) }

func stringAt(p unsafe.Pointer, n uint32) string { return unsafe.String((*byte)(p), n) }

func eventLen() int32 {
	if stub == nil {
		return noHost
	}
	return stub.eventLen()
}

func eventRead(buf unsafe.Pointer, bufLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.eventRead(bytesAt(buf, bufLen))
}

func eventGet(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, bufLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.eventGet(stringAt(name, nameLen), bytesAt(buf, bufLen))
}

func replySet(ptr unsafe.Pointer, n uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.replySet(bytesAt(ptr, n))
}

func errorSet(ptr unsafe.Pointer, n uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.errorSet(bytesAt(ptr, n))
}

func logLine(level int32, ptr unsafe.Pointer, n uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.log(level, bytesAt(ptr, n))
}

func nowMs() int64 {
	if stub == nil {
		return int64(noHost)
	}
	return stub.nowMs()
}

func deadlineMs() int64 {
	if stub == nil {
		return int64(noHost)
	}
	return stub.deadlineMs()
}

func configRead(buf unsafe.Pointer, bufLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.configRead(bytesAt(buf, bufLen))
}

func jwtSign(key unsafe.Pointer, keyLen uint32, claims unsafe.Pointer, claimsLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.jwtSign(stringAt(key, keyLen), bytesAt(claims, claimsLen))
}

func httpRequest(req unsafe.Pointer, reqLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.httpRequest(bytesAt(req, reqLen))
}

func resultRead(buf unsafe.Pointer, bufLen uint32) int32 {
	if stub == nil {
		return noHost
	}
	return stub.resultRead(bytesAt(buf, bufLen))
}

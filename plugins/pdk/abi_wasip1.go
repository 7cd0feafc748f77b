//go:build wasip1

package pdk

import "unsafe"

// The hookd_v1 host functions (hostapi/ABI.md, "Imports"). Pointers are
// passed as unsafe.Pointer so that the memory they point to stays alive
// for the call; the host copies in and out and keeps nothing, so nothing
// has to stay pinned after a call returns.

//go:wasmimport hookd_v1 event_len
func eventLen() int32

//go:wasmimport hookd_v1 event_read
func eventRead(buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport hookd_v1 event_get
func eventGet(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport hookd_v1 reply_set
func replySet(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport hookd_v1 error_set
func errorSet(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport hookd_v1 log
func logLine(level int32, ptr unsafe.Pointer, n uint32) int32

//go:wasmimport hookd_v1 now_ms
func nowMs() int64

//go:wasmimport hookd_v1 deadline_ms
func deadlineMs() int64

//go:wasmimport hookd_v1 config_read
func configRead(buf unsafe.Pointer, bufLen uint32) int32

//go:wasmimport hookd_v1 jwt_sign
func jwtSign(key unsafe.Pointer, keyLen uint32, claims unsafe.Pointer, claimsLen uint32) int32

//go:wasmimport hookd_v1 http_request
func httpRequest(req unsafe.Pointer, reqLen uint32) int32

//go:wasmimport hookd_v1 result_read
func resultRead(buf unsafe.Pointer, bufLen uint32) int32

// The exports (hostapi/ABI.md, "Exports"). They live here, in package pdk,
// so that a plugin's package main only has to import pdk.

//go:wasmexport hookd_v1_on_event
func exportOnEvent() int32 { return onEvent() }

//go:wasmexport hookd_v1_init
func exportInit() int32 { return onInit() }

//go:wasmexport hookd_v1_on_signup
func exportOnSignup() int32 { return onSignup() }

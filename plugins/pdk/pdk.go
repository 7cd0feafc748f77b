package pdk

import (
	"reflect"
	"runtime"
	"strconv"
)

// handler is the plugin's handler, set by Handle.
var handler func(ev *Event) Reply

// Handle makes fn the plugin's event handler. Call it once, from an init
// function of package main: a Go plugin is a WASI reactor, whose main
// function is never run.
//
//	func init() {
//		pdk.Handle(func(ev *pdk.Event) pdk.Reply {
//			return pdk.NoMessage()
//		})
//	}
//
// # Notes
//
//   - fn is called once per event, one call at a time: hookd runs each
//     instance of a plugin on one goroutine and gives concurrent events
//     to other instances, which share nothing. Package variables are
//     therefore per instance, and need no locking.
//   - A panic in fn is recovered: the call fails with status 1 (retried),
//     the panic's text as its failure message, and the stack in the log.
//   - Handle panics when fn is nil or a handler is already set. Without a
//     handler, hookd refuses to load the plugin.
func Handle(fn func(ev *Event) Reply) {
	if fn == nil {
		panic("pdk: Handle(nil)")
	}
	if handler != nil {
		panic("pdk: Handle called twice")
	}
	handler = fn
}

const noHandler = "pdk: no handler: call pdk.Handle from an init function of package main (main is not run in a plugin)"

// onInit implements hookd_v1_init: it refuses the instance when no handler
// is set.
func onInit() int32 {
	if handler == nil {
		return fail(statusFailed, noHandler)
	}
	return statusHandled
}

// onEvent implements hookd_v1_on_event.
func onEvent() (status int32) {
	if handler == nil {
		return fail(statusFailed, noHandler)
	}
	defer func() {
		if p := recover(); p != nil {
			status = panicked(p)
		}
	}()
	r := handler(&Event{})
	if r == nil {
		return statusHandled
	}
	return r.apply()
}

// panicked logs a recovered panic with its stack and fails the call with
// status 1.
func panicked(p any) int32 {
	msg := "panic: " + panicText(p)
	stack := make([]byte, 2048)
	stack = stack[:runtime.Stack(stack, false)]
	Log(LevelError, msg+"\n"+string(stack))
	return fail(statusRetry, msg)
}

// panicText is the text of a panic value, as fmt.Sprint would write the
// usual ones (this package does not link fmt).
func panicText(p any) string {
	switch p := p.(type) {
	case error:
		return p.Error()
	case string:
		return p
	case interface{ String() string }:
		return p.String()
	case int:
		return strconv.Itoa(p)
	case int64:
		return strconv.FormatInt(p, 10)
	case uint64:
		return strconv.FormatUint(p, 10)
	case float64:
		return strconv.FormatFloat(p, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(p)
	}
	return "a value of type " + reflect.TypeOf(p).String()
}

package hostfn

import (
	"context"
	"strconv"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero/api"
)

// impl32 is the Go side of a host function returning i32: it gets the
// call's state (never nil), the guest's memory (nil if it exports none) and
// the raw parameters.
type impl32 func(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32

// impl64 is the same for the clock functions, which return i64.
type impl64 func(c *Call) int64

// wrap32 turns impl into a wazero function: it finds the call state (none:
// ErrBadArgument), runs impl, records the call and puts the status on the
// stack.
func wrap32(name string, impl impl32) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		c := CallFrom(ctx)
		if c == nil {
			stack[0] = api.EncodeI32(hostapi.ErrBadArgument)
			return
		}
		start := time.Now()
		var mem api.Memory
		if mod != nil {
			mem = mod.Memory()
		}
		st := impl(ctx, c, mem, stack)
		c.record(name, int64(st), start)
		stack[0] = api.EncodeI32(st)
	}
}

// wrap64 is wrap32 for the clock functions.
func wrap64(name string, impl impl64) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		c := CallFrom(ctx)
		if c == nil {
			stack[0] = api.EncodeI64(int64(hostapi.ErrBadArgument))
			return
		}
		start := time.Now()
		v := impl(c)
		c.record(name, v, start)
		stack[0] = api.EncodeI64(v)
	}
}

// arg returns parameter i as the guest's unsigned i32.
func arg(stack []uint64, i int) uint32 { return api.DecodeU32(stack[i]) }

// inMemory reports whether [ptr, ptr+n) lies inside mem; a negative length
// (bit 31 set) never does.
func inMemory(mem api.Memory, ptr, n uint32) bool {
	if mem == nil || int32(n) < 0 {
		return false
	}
	return uint64(ptr)+uint64(n) <= uint64(mem.Size())
}

// readGuest copies [ptr, ptr+n) out of guest memory.
func readGuest(mem api.Memory, ptr, n uint32) ([]byte, bool) {
	if !inMemory(mem, ptr, n) {
		return nil, false
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// viewGuest returns [ptr, ptr+n) without copying, for a use that ends
// before the host function returns and keeps nothing (a map lookup).
func viewGuest(mem api.Memory, ptr, n uint32) ([]byte, bool) {
	if !inMemory(mem, ptr, n) {
		return nil, false
	}
	return mem.Read(ptr, n)
}

// deliver implements the reader discipline: check that the buffer lies in
// memory, write data only when it fits, return its full length.
func deliver(mem api.Memory, buf, bufLen uint32, data []byte) int32 {
	if !inMemory(mem, buf, bufLen) {
		return hostapi.ErrMemory
	}
	if len(data) > int(^uint32(0)>>1) {
		return hostapi.ErrTooLarge // not reachable with the host's limits
	}
	if uint64(len(data)) <= uint64(bufLen) && len(data) > 0 {
		if !mem.Write(buf, data) {
			return hostapi.ErrMemory
		}
	}
	return int32(len(data))
}

func eventLen(_ context.Context, c *Call, _ api.Memory, _ []uint64) int32 {
	return int32(len(c.eventForm()))
}

func eventRead(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	return deliver(mem, arg(stack, 0), arg(stack, 1), c.eventForm())
}

func eventGet(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	name, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	if !ok || !inMemory(mem, arg(stack, 2), arg(stack, 3)) {
		return hostapi.ErrMemory
	}
	v, ok := c.field(name)
	if !ok {
		return hostapi.ErrNotFound
	}
	return deliver(mem, arg(stack, 2), arg(stack, 3), []byte(v))
}

func replySet(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	ptr, n := arg(stack, 0), arg(stack, 1)
	if !inMemory(mem, ptr, n) {
		return hostapi.ErrMemory
	}
	if int(n) > c.maxReply {
		c.replyRefused = max(c.replyRefused, int(n))
		c.hostLog(hostapi.LevelWarn, "reply_set refused: "+strconv.Itoa(int(n))+" bytes, over the "+strconv.Itoa(c.maxReply)+"-byte limit")
		return hostapi.ErrTooLarge
	}
	b, ok := readGuest(mem, ptr, n)
	if !ok {
		return hostapi.ErrMemory
	}
	c.reply, c.replySet = b, true
	return hostapi.OK
}

func errorSet(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	ptr, n := arg(stack, 0), arg(stack, 1)
	if !inMemory(mem, ptr, n) {
		return hostapi.ErrMemory
	}
	b, ok := viewGuest(mem, ptr, min(n, hostapi.MaxErrorMessage+utf8Slack))
	if !ok {
		return hostapi.ErrMemory
	}
	c.errMsg = cut(string(b), hostapi.MaxErrorMessage)
	return hostapi.OK
}

// utf8Slack is read past a cut so that cut can tell a whole rune from a
// partial one at the boundary.
const utf8Slack = 4

func logLine(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	level, ptr, n := int32(arg(stack, 0)), arg(stack, 1), arg(stack, 2)
	if !inMemory(mem, ptr, n) {
		return hostapi.ErrMemory
	}
	if level < hostapi.LevelDebug || level > hostapi.LevelError {
		return hostapi.ErrBadArgument
	}
	b, ok := viewGuest(mem, ptr, min(n, hostapi.MaxLogLine+utf8Slack))
	if !ok {
		return hostapi.ErrMemory
	}
	if !c.AddLog("log", level, string(b)) {
		return hostapi.ErrLimit
	}
	return hostapi.OK
}

func nowMs(_ *Call) int64 { return time.Now().UnixMilli() }

func deadlineMs(c *Call) int64 {
	if c.deadline.IsZero() {
		return 1<<63 - 1
	}
	return max(time.Until(c.deadline).Milliseconds(), 0)
}

var emptyObject = []byte("{}")

func configRead(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	cfg := emptyObject
	if c.grants != nil && len(c.grants.Config) > 0 {
		cfg = c.grants.Config
	}
	return deliver(mem, arg(stack, 0), arg(stack, 1), cfg)
}

func resultRead(_ context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	if !inMemory(mem, arg(stack, 0), arg(stack, 1)) {
		return hostapi.ErrMemory
	}
	if !c.hasResult {
		return hostapi.ErrNotFound
	}
	return deliver(mem, arg(stack, 0), arg(stack, 1), c.result)
}

// setResult puts data in the result buffer and returns its length.
func (c *Call) setResult(data []byte) int32 {
	c.result, c.hasResult = data, true
	return int32(len(data))
}

// clearResult empties the result buffer, so that result_read after a
// failed jwt_sign or http_request does not return an older result.
func (c *Call) clearResult() { c.result, c.hasResult = nil, false }

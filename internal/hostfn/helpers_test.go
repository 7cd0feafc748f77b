package hostfn

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/timingtest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// memoryModule is (module (memory (export "memory") 2)): a guest with two
// 64 KiB pages and nothing else, for calling host functions directly.
var memoryModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
	0x05, 0x03, 0x01, 0x00, 0x02, // memory section: one memory, min 2 pages
	0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, // export "memory"
}

const memSize = 2 << 16

// harness calls the Go implementations of the host functions against the
// memory of a real (tiny) guest.
type harness struct {
	mod api.Module
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { _ = r.Close(ctx) })
	mod, err := r.Instantiate(ctx, memoryModule)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{mod: mod}
}

// hostFunc is one host function: its signature and its Go code.
type hostFunc struct {
	hostapi.Func
	fn api.GoModuleFunc
}

func lookup(t testing.TB, name string) hostFunc {
	t.Helper()
	f, ok := hostapi.Signature(name)
	if !ok {
		t.Fatalf("no host function %q", name)
	}
	return hostFunc{f, impls[name]}
}

// call runs host function name on c's state with params (i32 values as
// int32 or uint32) and returns its result.
func (h *harness) call(t testing.TB, c *Call, name string, params ...int64) int64 {
	t.Helper()
	f := lookup(t, name)
	if len(params) != len(f.Params) {
		t.Fatalf("%s takes %d parameters, not %d", name, len(f.Params), len(params))
	}
	stack := encode(f, params)
	ctx := context.Background()
	if c != nil {
		ctx = WithCall(ctx, c)
	}
	f.fn(ctx, h.mod, stack)
	if f.Results[0] == hostapi.I64 {
		return int64(stack[0])
	}
	return int64(api.DecodeI32(stack[0]))
}

// callCtx is call with a context of the caller's (for deadlines).
func (h *harness) callCtx(ctx context.Context, t testing.TB, c *Call, name string, params ...int64) int64 {
	t.Helper()
	f := lookup(t, name)
	stack := encode(f, params)
	f.fn(WithCall(ctx, c), h.mod, stack)
	return int64(api.DecodeI32(stack[0]))
}

// encode puts params on a stack for f: i32 values as the guest's unsigned
// i32 (int32 or uint32 given), i64 values as they are.
func encode(f hostFunc, params []int64) []uint64 {
	stack := make([]uint64, max(len(params), 1))
	for i, p := range params {
		if i < len(f.Params) && f.Params[i] == hostapi.I64 {
			stack[i] = uint64(p)
		} else {
			stack[i] = api.EncodeU32(uint32(p))
		}
	}
	return stack
}

func (h *harness) write(t testing.TB, off uint32, data string) (ptr, n int64) {
	t.Helper()
	if !h.mod.Memory().Write(off, []byte(data)) {
		t.Fatalf("write %d bytes at %d", len(data), off)
	}
	return int64(off), int64(len(data))
}

func (h *harness) read(t testing.TB, off, n uint32) string {
	t.Helper()
	b, ok := h.mod.Memory().Read(off, n)
	if !ok {
		t.Fatalf("read %d bytes at %d", n, off)
	}
	return string(b)
}

// fill sets [off, off+n) to b.
func (h *harness) fill(t testing.TB, off, n uint32, b byte) {
	t.Helper()
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = b
	}
	if !h.mod.Memory().Write(off, buf) {
		t.Fatal("fill")
	}
}

func testEvent() *hook.Event {
	return &hook.Event{
		ID: "ev-1",
		Fields: map[string]string{
			"MODULE":    "ISL_LIGHT",
			"EVENT":     "NEWSESSION",
			"SESSIONID": "5a1d",
			"NAME":      "Anna & Bo",
		},
	}
}

// testTimeout is the deadline of calls in tests that are not about
// deadlines: generous, so that a loaded machine (under -race) never runs
// past it.
const testTimeout = time.Minute

// stopBound bounds how long a request past its (short) timeout may take
// to be stopped: generous for a loaded machine, yet far from what an
// unenforced timeout gives (the handler waits for ever).
const stopBound = timingtest.StopBound

// stops runs f, which is expected to be stopped, and returns how long it
// ran; it fails t if f has not returned within stopBound.
var stops = timingtest.Stops

func newCall(g *Grants) *Call {
	return NewCall(testEvent(), time.Now().Add(testTimeout), 0, g)
}

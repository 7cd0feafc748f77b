package hostfn

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// FuzzHostFunctions calls each host function's Go implementation with
// arbitrary pointers and lengths (and i64 arguments) against a two-page
// memory: none may panic, write outside the buffer it was given, or return
// a status outside the ABI.
func FuzzHostFunctions(f *testing.F) {
	f.Add(uint8(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(1), uint32(0), uint32(1<<16), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(2), uint32(0), uint32(9), uint32(100), uint32(10), uint32(0))
	f.Add(uint8(3), uint32(1<<16-1), uint32(1), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(5), uint32(1), uint32(0), uint32(0xffffffff), uint32(0), uint32(0))
	f.Add(uint8(9), uint32(0), uint32(4), uint32(16), uint32(2), uint32(0))
	f.Add(uint8(10), uint32(0xfffffff0), uint32(32), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(11), uint32(1<<15), uint32(1<<31), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(12), uint32(30), uint32(9), uint32(100), uint32(10), uint32(0))        // state_get SESSIONID
	f.Add(uint8(13), uint32(30), uint32(9), uint32(0), uint32(30), uint32(1000))       // state_set SESSIONID
	f.Add(uint8(14), uint32(30), uint32(9), uint32(0xffffffff), uint32(0), uint32(64)) // state_incr SESSIONID by -1
	f.Add(uint8(15), uint32(30), uint32(9), uint32(0), uint32(0), uint32(0))           // state_delete SESSIONID

	h := newHarness(f)
	mem := h.mod.Memory()
	seed := []byte(`{"url":"http://127.0.0.1:1/x"}SESSIONID{"sub":"a"}relay.pem`)
	grants := &Grants{
		Config: []byte(`{"a":1}`),
		Keys:   []string{"relay.pem", "S"},
		Sign: func(context.Context, string, map[string]any) (string, error) {
			return "header.payload.signature", nil
		},
	}
	st, err := NewState(store.NewMemoryState(), "fuzz", hook.StateLimits{MaxValue: 64, MaxKeys: 4, MaxBytes: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	grants.State = st
	f.Fuzz(func(t *testing.T, which uint8, a, b, c, d, e uint32) {
		fns := hostapi.Functions()
		fn := lookup(t, fns[int(which)%len(fns)].Name)
		// A known memory: the seed at 0, then a pattern, so that writes
		// outside the given buffer are seen.
		buf := make([]byte, memSize)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		copy(buf, seed)
		mem.Write(0, buf)

		call := NewCall(testEvent(), time.Now().Add(testTimeout), 64, grants)
		stack := []uint64{api.EncodeU32(a), api.EncodeU32(b), api.EncodeU32(c), api.EncodeU32(d), api.EncodeU32(e)}
		for i, p := range fn.Params {
			if p == hostapi.I64 { // negative and positive i64 values
				stack[i] = uint64(int64(int32(stack[i])))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		fn.fn(WithCall(ctx, call), h.mod, stack)

		if fn.Results[0] == hostapi.I64 {
			return
		}
		st := api.DecodeI32(stack[0])
		if st < hostapi.ErrFailed {
			t.Fatalf("%s returned %d, not an ABI status", fn.Name, st)
		}
		// Only readers write, and only inside [buf, buf+buf_len).
		lo, hi := uint64(memSize), uint64(0)
		switch fn.Name {
		case hostapi.FuncEventRead, hostapi.FuncConfigRead, hostapi.FuncResultRead:
			lo, hi = uint64(a), uint64(a)+uint64(b)
		case hostapi.FuncEventGet, hostapi.FuncStateGet:
			lo, hi = uint64(c), uint64(c)+uint64(d)
		case hostapi.FuncStateIncr:
			lo, hi = uint64(e), uint64(e)+8
		}
		got, _ := mem.Read(0, memSize)
		for i := range got {
			if got[i] != buf[i] && (uint64(i) < lo || uint64(i) >= hi) {
				t.Fatalf("%s(%d, %d, %d, %d) wrote at %d, outside its buffer", fn.Name, a, b, c, d, i)
			}
		}
		if st == hostapi.ErrMemory && call.Counters().MemoryErrors != 1 {
			t.Fatalf("memory error not counted")
		}
	})
}

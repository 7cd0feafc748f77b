package wasmhost

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
)

// TestCallMeasuredMemory: CallMeasured reports the linear memory the call
// left the instance with (what a dry run shows a domain owner): the
// declared minimum of a guest that does not grow, memory_pages for one
// that grows to the limit; the outcome is Call's.
func TestCallMeasuredMemory(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	ok := load(t, e, "ok", Limits{Instances: 1}, hostfn.Grants{})
	out, st, err := ok.CallMeasured(context.Background(), event("a"))
	if err != nil || out.Status != 0 || st.Memory != 1<<16 {
		t.Errorf("ok: %+v, %+v, %v; want status 0 and one page", out, st, err)
	}
	grow := load(t, e, "grow", Limits{MemoryPages: 40, Instances: 1}, hostfn.Grants{})
	out, st, err = grow.CallMeasured(context.Background(), event("a"))
	if err != nil || out.Status != 40 || st.Memory != 40<<16 {
		t.Errorf("grow: %+v, %+v, %v; want 40 pages", out, st, err)
	}
}

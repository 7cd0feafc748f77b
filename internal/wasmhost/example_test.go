package wasmhost_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/wasmhost"
)

func ExampleEngine_Load() {
	ctx := context.Background()
	e, err := wasmhost.NewEngine(ctx, wasmhost.Options{})
	if err != nil {
		panic(err)
	}
	defer e.Close(ctx)

	// A generous deadline, as a test needs on a busy machine; a runaway
	// guest is stopped after it (production: 250ms by default).
	p, err := e.Load(ctx, "testdata/echo.wasm", wasmhost.Limits{Timeout: time.Minute}, hostfn.Grants{})
	if err != nil {
		panic(err)
	}
	out, err := p.Call(ctx, &hook.Event{ID: "e1", Fields: map[string]string{"EVENT": "NEWSESSION", "SESSIONID": "5a1d"}})
	if err != nil {
		panic(err) // a trap, a deadline, …: retried in strict mode
	}
	fmt.Println(out.Status, string(out.Reply))
	fmt.Println(out.Logs[0].Text)
	// Output:
	// 0 <module><islLight><session id="5a1d"><drop/></session></islLight></module>
	// EVENT=NEWSESSION&EVENT_ID=e1&SESSIONID=5a1d
}

// A plugin that does not fit the ABI is refused at load, with every
// problem named.
func ExampleEngine_Load_refused() {
	ctx := context.Background()
	e, err := wasmhost.NewEngine(ctx, wasmhost.Options{})
	if err != nil {
		panic(err)
	}
	defer e.Close(ctx)
	_, err = e.Load(ctx, "testdata/v2.wasm", wasmhost.Limits{}, hostfn.Grants{})
	fmt.Println(err)
	// Output:
	// plugin testdata/v2.wasm: plugin does not fit ABI hookd_v1: it exports hookd_v2_on_event, the entry point of another ABI version; this hookd speaks hookd_v1 only and needs hookd_v1_on_event; it imports hookd_v2.log: ABI hookd_v2 is not supported; this hookd speaks hookd_v1 only
}

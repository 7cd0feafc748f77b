package runtime_test

import (
	"context"
	"fmt"
	"os"

	"github.com/hookrt/hookd/hook"
	hookrt "github.com/hookrt/hookd/runtime"
)

// An embedding proxy opens the runtime on its config, adds a Go callback as
// a target, and emits events; Emit returns once the event is committed.
func Example() {
	dir, _ := os.MkdirTemp("", "hookd-example")
	defer os.RemoveAll(dir)
	cfg, err := hookrt.ParseConfig([]byte(`
[store]
path = "hookd.db"
`), dir)
	if err != nil {
		panic(err)
	}
	got := make(chan string, 1)
	audit := hook.Target{
		Name:  "audit",
		Match: func(ev *hook.Event) bool { return ev.Module() == "ISL_CP" },
		Handler: hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			got <- ev.Name() + " " + ev.Get("USERNAME")
			return hook.Result{}, nil
		}),
	}
	ctx := context.Background()
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithTarget(audit))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": "ann"}); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output: USER_CREATE ann
}

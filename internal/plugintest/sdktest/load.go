package sdktest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// testNoHandler: hookd refuses a plugin that never registered its
// handler, and says so, rather than failing every event.
func testNoHandler(t *testing.T, g Guest) {
	wasm := g.Build(t, g.NoHandler)
	_, err := plugintest.Engine(t).Load(context.Background(), wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	if !errors.Is(err, wasmhost.ErrRefused) || !strings.Contains(err.Error(), "pdk: no handler") {
		t.Errorf("err %v, want ErrRefused saying there is no handler", err)
	}
}

// testLoads: the SDK's guests fit the ABI and start, as hookd serve loads
// them.
func testLoads(t *testing.T, g Guest) {
	for _, src := range []string{g.TestGuest, g.Minimal} {
		plugintest.Load(t, g.Build(t, src), wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	}
}

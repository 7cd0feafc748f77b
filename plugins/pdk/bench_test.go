package pdk_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// BenchmarkGoGuest measures one call on a warm instance, with the default
// 250 ms deadline enforced, for a ~300-byte event:
//
//   - wat: internal/wasmhost's ok.wasm, the minimal guest (sets
//     <nomessage/>), for comparison;
//   - go-nomessage: internal/nopguest, the smallest Go plugin;
//   - go-get: testguest answering NoMessage after two ev.Get calls;
//   - go-fields: testguest decoding the whole event (ev.Fields) and
//     replying the number of fields.
//
// Run with: go test -run '^$' -bench BenchmarkGoGuest ./plugins/pdk/
func BenchmarkGoGuest(b *testing.B) {
	ev := plugintest.Event(nil)
	get := plugintest.Event(map[string]string{"op": "nomessage"})
	fields := plugintest.Event(map[string]string{"op": "fieldcount"})
	delete(get.Fields, "DESK") // keep ~300 bytes with the op field
	delete(fields.Fields, "DESK")
	wat := filepath.Join("..", "..", "internal", "wasmhost", "testdata", "ok.wasm")

	for _, bc := range []struct {
		name string
		wasm func(b *testing.B) string
		ev   *hook.Event
	}{
		{"wat", func(b *testing.B) string {
			if _, err := os.Stat(wat); err != nil {
				b.Skip(err)
			}
			return wat
		}, ev},
		{"go-nomessage", func(b *testing.B) string {
			return plugintest.Build(b, "github.com/hookrt/hookd/plugins/pdk/internal/nopguest")
		}, ev},
		{"go-get", func(b *testing.B) string { return plugintest.Build(b, testguest) }, get},
		{"go-fields", func(b *testing.B) string { return plugintest.Build(b, testguest) }, fields},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := plugintest.Load(b, bc.wasm(b), wasmhost.Limits{Instances: 1, Timeout: wasmhost.DefaultTimeout}, hostfn.Grants{})
			ctx := context.Background()
			if out, err := p.Call(ctx, bc.ev); err != nil || out.Status != 0 {
				b.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Call(ctx, bc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

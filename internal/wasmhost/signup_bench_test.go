package wasmhost_test

import (
	"context"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// BenchmarkCallSignup compares a hookd_v1_on_signup call with a
// hookd_v1_on_event call of the same Go guest, where each does nothing
// (the sign-up abstains, the event gets <nomessage/>): what the sign-up
// path costs beyond an event's (looking the export up on the instance,
// its type check).
func BenchmarkCallSignup(b *testing.B) {
	p := plugintest.Load(b, plugintest.Build(b, "github.com/hookrt/hookd/plugins/pdk/internal/signupguest"),
		wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	ctx := context.Background()
	fields := map[string]string{"username": "abstain", "domain": "acme", "email": "ann@acme.example", "fullname": "Ann", "language": "en"}
	ev := plugintest.Event(nil)
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Call(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, err := p.CallSignup(ctx, fields); err != nil || out.Status != 2 {
				b.Fatal(out.Status, err)
			}
		}
	})
}

package webapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
)

// scriptDecider is the runtime's decider for one domain: the domain's
// plugin (runtime/webapi.go adds only a map lookup of its target).
type scriptDecider struct{ s *wasmscript.Script }

func (d scriptDecider) DecideSignup(ctx context.Context, _ string, fields map[string]string) (hook.SignupDecision, error) {
	return d.s.DecideSignup(ctx, fields)
}

// BenchmarkSignupPlugin measures what a domain's plugin adds to a sign-up
// decision. Each iteration makes three Signups against a loopback service
// that answers at once: "off" (the WebAPI alone, today's path), "before"
// (the plugin allows, then the WebAPI) and "instead" (the plugin alone),
// and reports the p50 and p99 of each and the plugin's overhead,
// before − off. Guests: go-allow is the Go SDK's sign-up test guest
// allowing (one log line: the mechanism's own cost); go-guard-sqlite is
// the signup-guard example with its counter in a SQLite store (a
// state_incr per decision, a write transaction). -benchtime Nx = N
// triples.
func BenchmarkSignupPlugin(b *testing.B) {
	answer := []byte(`{"result": {"code": "ok", "description": "Welcome."}, "data": {"id": 7}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	for _, g := range []struct {
		name, pkg string
		state     bool
		config    map[string]any
	}{
		{"go-allow", "github.com/hookrt/hookd/plugins/pdk/internal/signupguest", false, nil},
		{"go-guard-sqlite", "github.com/hookrt/hookd/plugins/examples/signup-guard", true, map[string]any{"allow": []any{"acme.example"}}},
	} {
		b.Run(g.name, func(b *testing.B) {
			ctx := context.Background()
			log := slog.New(slog.NewJSONHandler(io.Discard, nil))
			h, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{CacheDir: plugintest.CacheDir(b), Logger: log})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			settings := wasmscript.Settings{Timeout: hook.Duration(10 * time.Second), State: g.state}
			if g.state {
				settings = settings.WithState(store.PluginState{DB: storetest.Open(b, storetest.SQLite(b))}, "acme")
			}
			sc, err := h.Load(ctx, wasmscript.Spec{Domain: "acme", Path: plugintest.Build(b, g.pkg), Settings: settings, Config: g.config})
			if err != nil {
				b.Fatal(err)
			}
			services := map[string]*webapi.Service{}
			for _, mode := range []string{"off", "before", "instead"} {
				s := &webapi.Service{URL: srv.URL + "/webapi2", Timeout: hook.Duration(5 * time.Second), UseSignup: true, SignupPlugin: mode}
				if err := s.Provision(ctx, hook.Env{Logger: log, UserAgent: "hookd/bench", Signup: scriptDecider{sc}}); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				services[mode] = s
			}
			req := webapi.SignupRequest{Username: "allow", Domain: "acme", Email: "allow@acme.example", FullName: "Ann Example", Language: "en"}
			signup := func(mode string) time.Duration {
				t0 := time.Now()
				res, err := services[mode].Signup(ctx, req)
				d := time.Since(t0)
				if err != nil || res.Outcome != webapi.Allowed {
					b.Fatalf("%s: %+v %v", mode, res, err)
				}
				return d
			}
			for range 100 { // open the connections, warm the pools
				signup("off")
				signup("before")
				signup("instead")
			}
			lat := map[string][]time.Duration{}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for _, mode := range []string{"off", "before", "instead"} {
					lat[mode] = append(lat[mode], signup(mode))
				}
			}
			b.StopTimer()
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			pct := map[string][2]time.Duration{}
			for mode, l := range lat {
				slices.Sort(l)
				pct[mode] = [2]time.Duration{l[len(l)/2], l[len(l)*99/100]}
				b.ReportMetric(us(pct[mode][0]), mode+"-p50-µs")
				b.ReportMetric(us(pct[mode][1]), mode+"-p99-µs")
			}
			b.ReportMetric(us(pct["before"][0]-pct["off"][0]), "overhead-p50-µs")
			b.ReportMetric(us(pct["before"][1]-pct["off"][1]), "overhead-p99-µs")
		})
	}
}

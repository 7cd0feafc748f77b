package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// BenchmarkAuth is the cost of a request with the operator's token and
// with a domain token (a store lookup and a hash), on the same route over
// a real runtime on SQLite: GET /v1/deliveries?limit=1 of an empty log.
func BenchmarkAuth(b *testing.B) {
	cfg, err := hookrt.ParseConfig([]byte(`
[http_events]
per_domain = true
allow_private = ["127.0.0.0/8"]
`), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store = teststore.SQLite(b)
	rt, err := hookrt.Open(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
	})
	if _, err := rt.PutDomain(b.Context(), hook.Operator(), "5", []byte(`{"script":"http://127.0.0.1:1/x"}`)); err != nil {
		b.Fatal(err)
	}
	tok, err := rt.CreateDomainToken(b.Context(), hook.Operator(), "5", "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	h := api.New(rt, api.Options{Token: "operator-token"})
	for _, bc := range []struct{ name, token string }{{"operator", "operator-token"}, {"domain", tok.Secret}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/deliveries?limit=1", nil)
			req.Header.Set("Authorization", "Bearer "+bc.token)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

package jwtwebhook_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/jwtsign"
	hookrt "github.com/hookrt/hookd/runtime"
)

// BenchmarkEndToEnd measures deliveries/s from EmitMany to a loopback
// receiver's 204 through the whole engine (SQLite store, River jobs, JWT
// signing, HTTP) with the shipped defaults (poll_interval aside), and in the same run the raw signing rate of the same key
// on all cores, reporting the ratio. Run with -benchtime Nx: N deliveries.
func BenchmarkEndToEnd(b *testing.B) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS256", rsaKey}, {"EdDSA", edKey}} {
		b.Run(tc.alg, func(b *testing.B) {
			dir := b.TempDir()
			writePEM(b, dir, "k.pem", tc.key, 0o600)
			signRate := rawSignRate(b, dir, b.N)

			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
			defer srv.Close()
			doc := fmt.Sprintf(`
[storage]
private_dir = %q
[store]
path = %q
[delivery]
poll_interval = "10ms"
[jwt_webhook]
url = %q
private_key = "k.pem"
claims = { iss = "bench", rid = "456" }
[jwt_webhook.events]
user_create = true
`, dir, filepath.Join(dir, "hookd.db"), srv.URL)
			cfg, err := parse(b, doc)
			if err != nil {
				b.Fatal(err)
			}
			var delivered atomic.Int64
			all := make(chan struct{})
			n := int64(b.N)
			rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(func(_ context.Context, o hook.Observation) {
				if o.State == "delivered" && delivered.Add(1) == n {
					close(all)
				}
			}))
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close(context.Background())
			batch := make([]map[string]string, 100)
			for i := range batch {
				batch[i] = map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3",
					"USERNAME": fmt.Sprint("user", i), "EMAIL": fmt.Sprintf("user%d@example.com", i)}
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			for left := b.N; left > 0; left -= len(batch) {
				if _, err := rt.EmitMany(context.Background(), batch[:min(left, len(batch))]); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-all:
			case <-time.After(10 * time.Minute):
				b.Fatalf("only %d of %d delivered", delivered.Load(), n)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu0).Seconds()/elapsed.Seconds(), "cores")
			rate := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rate, "deliveries/s")
			b.ReportMetric(signRate, "raw-signs/s")
			b.ReportMetric(rate/signRate, "e2e/raw")
		})
	}
}

// rawSignRate signs n webhook-sized claim sets on every core and returns
// signatures per second: the ceiling for end-to-end deliveries.
func rawSignRate(b *testing.B, dir string, n int) float64 {
	key, err := jwtsign.LoadKey(dir, "k.pem", "")
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{"iss": "bench", "rid": "456", "iat": 1, "exp": 2, "jti": event.ID,
		"event": "user_create", "module": "ISL_CP", "server_id": "grid-1", "domain_id": "3", "data": event.Fields}
	workers := max(1, runtimeNumCPU())
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, err := key.Sign(claims); err != nil {
					panic(err)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

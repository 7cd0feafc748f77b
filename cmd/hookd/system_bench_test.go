package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
)

// BenchmarkServe is the whole daemon in one process, as a profile sees
// it: 32 senders POST /v1/events to serve (SQLite or PostgreSQL, EdDSA JWT
// webhook), and a receiver on loopback verifies every token. One op is one
// event accepted and delivered. It exists to profile where a delivery's CPU
// goes (-cpuprofile); cmd/hookd-load measures the system from outside.
func BenchmarkServe(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchServe(b, "") })
	b.Run("postgres", func(b *testing.B) {
		st := storetest.Postgres(b) // skips without a server
		benchServe(b, fmt.Sprintf("driver = \"postgres\"\ndsn = %q", st.DSN))
	})
}

func benchServe(b *testing.B, store string) {
	dir := b.TempDir()
	listen, hookAddr := freeAddr(b), freeAddr(b)
	base := "http://" + listen
	cfg := writeConfig(b, dir, listen, "http://"+hookAddr+"/hook", "")
	raw, _ := os.ReadFile(cfg)
	conf := strings.Replace(string(raw), `level = "debug"`, `level = "warn"`, 1)
	if store != "" {
		conf = strings.Replace(conf, `path = "data/hookd.db"`, store, 1)
	}
	os.WriteFile(cfg, []byte(conf), 0o600)

	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	hooks := &http.Server{Addr: hookAddr, Handler: recv}
	go hooks.ListenAndServe()
	defer hooks.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { run(ctx, []string{"serve", "-config", cfg}, io.Discard, io.Discard); close(done) }()
	defer func() { cancel(); <-done }()
	waitHealthy(b, base, done)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const senders = 32
	next := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range senders {
		wg.Go(func() {
			for i := range next {
				body := fmt.Sprintf(`{"MODULE":"ISL_CP","EVENT":"USER_CREATE","DOMAIN_ID":"3","USERNAME":"u%d"}`, i)
				resp, err := client.Post(base+"/v1/events", "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("POST /v1/events: %s", resp.Status)
				}
			}
		})
	}
	start := time.Now()
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	accepted := time.Since(start)
	n := b.N
	deadline := time.Now().Add(5 * time.Minute)
	for {
		recv.mu.Lock()
		got, bad := len(recv.got), len(recv.bad)
		recv.mu.Unlock()
		if bad > 0 {
			b.Fatalf("%d tokens failed verification", bad)
		}
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", got, n)
		}
		select {
		case <-recv.ch:
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/accepted.Seconds(), "accepted/s")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "delivered/s")
}

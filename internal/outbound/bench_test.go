package outbound

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/hookrt/hookd/internal/outbound/outboundtest"
)

// BenchmarkDo measures one delivery-sized POST over a kept-alive loopback
// connection: the client's own overhead plus net/http's.
func BenchmarkDo(b *testing.B) {
	url := serve(b, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	c := New(Options{})
	b.Cleanup(c.CloseIdleConnections)
	payload := bytes.Repeat([]byte("x"), 300)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(ctx, req)
			if err != nil || resp.Status != http.StatusNoContent {
				b.Fatalf("Do = %+v, %v", resp, err)
			}
		}
	})
}

// BenchmarkDoThroughProxy is BenchmarkDo through a CONNECT proxy on
// loopback, with Prepare adding one header: once the tunnel is open, the
// cost per request is the proxy's copying, not hookd's.
func BenchmarkDoThroughProxy(b *testing.B) {
	url := serve(b, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	p := outboundtest.NewProxy(b, outboundtest.ProxyOptions{})
	c := New(Options{Proxy: p.URL, Prepare: func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer x")
		return nil
	}})
	b.Cleanup(c.CloseIdleConnections)
	payload := bytes.Repeat([]byte("x"), 300)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			resp, err := c.Do(ctx, req)
			if err != nil || resp.Status != http.StatusNoContent {
				b.Fatalf("Do = %+v, %v", resp, err)
			}
		}
	})
}

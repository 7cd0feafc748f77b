package main

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP/HTTP traces endpoint on loopback that keeps the
// spans it is sent.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	got   chan struct{}
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Write(out)
}

func (c *collector) byName(name string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if s.GetName() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestServeTracing: with [tracing] set, a POSTed event makes an API span,
// an emit span under it and an attempt span under the emit, exported to
// the collector; the receiver gets the attempt's traceparent.
func TestServeTracing(t *testing.T) {
	t.Cleanup(func() { // the daemon installed process globals
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	col := &collector{got: make(chan struct{}, 1)}
	colLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	colSrv := &http.Server{Handler: col}
	go colSrv.Serve(colLn)
	t.Cleanup(func() { colSrv.Close() })

	traceparent := make(chan string, 1)
	hookSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case traceparent <- r.Header.Get("Traceparent"):
		default:
		}
		w.WriteHeader(204)
	})}
	hookLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go hookSrv.Serve(hookLn)
	t.Cleanup(func() { hookSrv.Close() })

	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen
	cfg := writeConfig(t, dir, listen, "http://"+hookLn.Addr().String()+"/", `
[tracing]
endpoint = "http://`+colLn.Addr().String()+`/v1/traces"
service_name = "hookd-test"
`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "-config", cfg}, io.Discard, io.Discard) }()
	waitHealthy(t, base, nil)
	postEvent(t, base, "", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "1", "USERNAME": "ann"})

	var tp string
	select {
	case tp = <-traceparent:
	case <-time.After(startPatience):
		t.Fatal("the receiver got nothing")
	}
	// Stopping the daemon flushes the spans.
	cancel()
	<-done

	emits, attempts := col.byName("hookd.emit"), col.byName("hookd.attempt")
	apis := col.byName("hookd.api POST")
	if len(emits) != 1 || len(attempts) != 1 || len(apis) != 1 {
		t.Fatalf("spans: %d api, %d emit, %d attempt; want one each", len(apis), len(emits), len(attempts))
	}
	api, emit, attempt := apis[0], emits[0], attempts[0]
	if string(emit.GetParentSpanId()) != string(api.GetSpanId()) || string(emit.GetTraceId()) != string(api.GetTraceId()) {
		t.Error("the emit span is not the API span's child")
	}
	if string(attempt.GetParentSpanId()) != string(emit.GetSpanId()) || string(attempt.GetTraceId()) != string(emit.GetTraceId()) {
		t.Error("the attempt span is not the emit span's child")
	}
	// traceparent: 00-<trace id>-<span id>-<flags>
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || parts[1] != hex.EncodeToString(attempt.GetTraceId()) {
		t.Errorf("traceparent %q does not carry the attempt's trace %x", tp, attempt.GetTraceId())
	}
	var target string
	for _, kv := range attempt.GetAttributes() {
		if kv.GetKey() == "hookd.target" {
			target = kv.GetValue().GetStringValue()
		}
	}
	if target != "jwt_webhook" {
		t.Errorf("attempt span's hookd.target = %q", target)
	}
}

package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
)

func TestDo(t *testing.T) {
	t.Parallel()
	const short = 200 * time.Millisecond
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<10) // 32 KiB

	tests := []struct {
		name    string
		handler func(f *fixture) http.HandlerFunc // nil: connection refused
		opts    Options
		method  string
		path    string

		wantStatus    int
		wantBody      string // compared when wantBodyLen is 0 and not anyBody
		anyBody       bool
		wantBodyLen   int
		wantTruncated bool
		wantErr       string // substring; "" means no error
		wantErrIs     error
		wantDisable   bool
		wantHint      time.Duration
		wantHintOK    bool
		wantHits      int32
	}{
		{
			name: "200 returns the body",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) }
			},
			wantStatus: 200, wantBody: `{"ok":true}`,
		},
		{
			name: "204 has no body",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
			},
			wantStatus: 204, wantBody: "",
		},
		{
			name: "HEAD with a Content-Length has no body and no error",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Length", "42") }
			},
			method:     http.MethodHead,
			wantStatus: 200, wantBody: "",
		},
		{
			name: "302 is not followed",
			handler: func(f *fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/target" {
						f.hits.Add(1)
						return
					}
					http.Redirect(w, r, "/target", http.StatusFound)
				}
			},
			wantStatus: 302,
			wantErr:    "HTTP 302: redirects are not followed (Location: /target); a delivery needs a 2xx answer",
			wantHits:   0,
		},
		{
			name: "400 is an error with the body",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "missing field jwt", 400) }
			},
			wantStatus: 400, wantBody: "missing field jwt\n", wantErr: "HTTP 400: missing field jwt",
		},
		{
			name: "404",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
			},
			wantStatus: 404, wantBody: "404 page not found\n", wantErr: "HTTP 404: 404 page not found",
		},
		{
			name: "410 disables the target",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }
			},
			wantStatus: 410, wantErr: "HTTP 410: (empty body); the endpoint is gone", wantDisable: true,
		},
		{
			name: "429 with Retry-After seconds",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "7")
					w.WriteHeader(http.StatusTooManyRequests)
				}
			},
			wantStatus: 429, wantErr: "HTTP 429", wantHint: 7 * time.Second, wantHintOK: true,
		},
		{
			name: "503 with Retry-After date, read against the Date header",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
					w.Header().Set("Date", now.Format(http.TimeFormat))
					w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			},
			wantStatus: 503, wantErr: "HTTP 503", wantHint: 90 * time.Second, wantHintOK: true,
		},
		{
			name: "503 with a garbage Retry-After is a plain failure",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "soon")
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			},
			wantStatus: 503, wantErr: "HTTP 503: (empty body)",
		},
		{
			name: "500 with an HTML page quotes its start",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(500)
					fmt.Fprint(w, "<!DOCTYPE html>\n<html>\n  <head><title>500 Internal Server Error</title></head>\n"+strings.Repeat("<p>x</p>", 100))
				}
			},
			wantStatus: 500, anyBody: true,
			wantErr: "HTTP 500: <!DOCTYPE html> <html> <head><title>500 Internal Server Error</title></head>",
		},
		{
			name: "no response headers in time",
			handler: func(f *fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { f.block(r) }
			},
			opts:    Options{Timeout: short},
			wantErr: "timeout after 200ms waiting for the response", wantErrIs: context.DeadlineExceeded,
		},
		{
			name: "slow body times out",
			handler: func(f *fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "1000")
					fmt.Fprint(w, "partial")
					w.(http.Flusher).Flush()
					f.block(r)
				}
			},
			opts:       Options{Timeout: short},
			wantStatus: 200, wantBody: "partial",
			wantErr: "timeout after 200ms reading the response body", wantErrIs: context.DeadlineExceeded,
		},
		{
			name:      "connection refused",
			wantErr:   "connection refused (127.0.0.1:",
			wantErrIs: syscall.ECONNREFUSED,
		},
		{
			name: "body longer than the default MaxBody is cut",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.Write(big) }
			},
			wantStatus: 200, wantBodyLen: hook.MaxReplyExcerpt, wantTruncated: true,
		},
		{
			name: "chunked body longer than MaxBody is cut",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					for i := range 4 {
						w.Write(big[i*1000 : (i+1)*1000])
						w.(http.Flusher).Flush()
					}
				}
			},
			opts:       Options{MaxBody: 1500},
			wantStatus: 200, wantBodyLen: 1500, wantTruncated: true,
		},
		{
			name: "body of exactly MaxBody is not cut",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.Write(big[:1500]) }
			},
			opts:       Options{MaxBody: 1500},
			wantStatus: 200, wantBodyLen: 1500,
		},
		{
			name: "User-Agent is sent",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.UserAgent()) }
			},
			opts:       Options{UserAgent: "hookd/1.2.3"},
			wantStatus: 200, wantBody: "hookd/1.2.3",
		},
		{
			name: "default User-Agent",
			handler: func(*fixture) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.UserAgent()) }
			},
			wantStatus: 200, wantBody: "hookd",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fixture{release: make(chan struct{})}
			url := refusedURL(t)
			if tt.handler != nil {
				url = serve(t, f, tt.handler(f))
			}
			c := New(tt.opts)
			t.Cleanup(c.CloseIdleConnections)

			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, url+tt.path, strings.NewReader(`{"jwt":"x.y.z"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), req)
			res, err := Classify(resp, err)

			if tt.wantErr == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErrIs)
			}
			if got := hook.IsDisable(err); got != tt.wantDisable {
				t.Errorf("IsDisable = %v, want %v", got, tt.wantDisable)
			}
			if hint, ok := hook.RetryAfterHint(err); ok != tt.wantHintOK || hint != tt.wantHint {
				t.Errorf("RetryAfterHint = %v, %v; want %v, %v", hint, ok, tt.wantHint, tt.wantHintOK)
			}
			if res.Status != tt.wantStatus {
				t.Errorf("Status = %d, want %d", res.Status, tt.wantStatus)
			}
			if tt.wantBodyLen > 0 {
				if len(res.Reply) != tt.wantBodyLen || !bytes.Equal(res.Reply, big[:tt.wantBodyLen]) {
					t.Errorf("Reply has %d bytes, want the first %d sent", len(res.Reply), tt.wantBodyLen)
				}
			} else if !tt.anyBody && string(res.Reply) != tt.wantBody {
				t.Errorf("Reply = %q, want %q", res.Reply, tt.wantBody)
			}
			if resp != nil && resp.Truncated != tt.wantTruncated {
				t.Errorf("Truncated = %v, want %v", resp.Truncated, tt.wantTruncated)
			}
			if resp != nil && (res.Latency <= 0 || res.Latency != resp.Latency) {
				t.Errorf("Latency = %v, want > 0 and = Response.Latency", res.Latency)
			}
			if got := f.hits.Load(); got != tt.wantHits {
				t.Errorf("redirect target hit %d times, want %d", got, tt.wantHits)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error text spans lines: %q", err)
			}
		})
	}
}
